/*
 * The driver of the 3.x SDK family (X-Kinvey-API-Version 4, fixed in the SDK), whose Node
 * (kinvey-node-sdk@3.12.5) and HTML5 (kinvey-html5-sdk@3.12.5) builds share one public API:
 * each method is one public call of the SDK, as an app of that era would make it. Only files
 * differ (the platform's bytes), so the platform passes `uploadFile` and `downloadFile`.
 *
 * Node: `require('../kinvey3-driver')`; a browser page: `<script>` defines `kinvey3Driver`.
 */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.kinvey3Driver = factory(); // eslint-disable-line no-param-reassign
}(typeof self !== 'undefined' ? self : this, () => {
  'use strict';

  return function kinvey3Driver(Kinvey, { sdk, uploadFile, downloadFile }) {
    function store(collection) {
      return Kinvey.DataStore.collection(collection, Kinvey.DataStoreType.Network);
    }

    return {
      sdk,
      apiVersion: 4,
      // The SDK stores the signup response (with _kmd.authtoken) as the active user.
      signupStartsSession: true,

      // clientAppVersion (optional): the app's release, sent as X-Kinvey-Client-App-Version.
      async init({ baseUrl, appKey, appSecret, clientAppVersion }) {
        // apiHostname accepts http:// as well as https://.
        await Kinvey.initialize({ appKey, appSecret, apiHostname: baseUrl, appVersion: clientAppVersion });
      },

      ping: () => Kinvey.ping(),

      async signup(username, password) {
        return (await Kinvey.User.signup({ username, password })).data;
      },

      async sessionToken() {
        const user = Kinvey.User.getActiveUser();
        return user && user.data && user.data._kmd ? user.data._kmd.authtoken : undefined;
      },

      logout: () => Kinvey.User.logout(),

      async login(username, password) {
        return (await Kinvey.User.login(username, password)).data;
      },

      isInvalidCredentials: (error) => error instanceof Kinvey.InvalidCredentialsError,

      isNotFound: (error) => error instanceof Kinvey.NotFoundError,

      save: (collection, entity) => store(collection).save(entity),

      findById: (collection, id) => store(collection).findById(id).toPromise(),

      findWhere: (collection, field, value) => store(collection).find(new Kinvey.Query().equalTo(field, value)).toPromise(),

      count: (collection) => store(collection).count().toPromise(),

      async removeById(collection, id) {
        return (await store(collection).removeById(id)).count;
      },

      async removeWhere(collection, field, value) {
        return (await store(collection).remove(new Kinvey.Query().equalTo(field, value))).count;
      },

      uploadFile,

      downloadFile,

      // At API version 2+ a plain DELETE only disables the user; hard removes it.
      removeUser: (id) => Kinvey.User.remove(id, { hard: true }),
    };
  };
}));
