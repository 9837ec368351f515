/*
 * Driver for kinvey-html5-sdk@3.12.5 in a browser page (X-Kinvey-Api-Version 4, fixed in the
 * SDK), the generation hybrid apps (PhoneGap/Cordova/Ionic) shipped. Thin: each method is one
 * public call of the SDK (window.Kinvey, from its UMD bundle). Defines window.KinveyDriver.
 */
(function (Kinvey) {
  'use strict';

  function store(collection) {
    return Kinvey.DataStore.collection(collection, Kinvey.DataStoreType.Network);
  }

  // The SDK hands a download back as text (superagent over XHR), a Blob or an ArrayBuffer.
  async function asBytes(body) {
    if (body instanceof Uint8Array) return body;
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
    return new TextEncoder().encode(String(body));
  }

  window.KinveyDriver = {
    sdk: 'kinvey-html5-sdk@3.12.5',
    apiVersion: 4,
    // The SDK stores the signup response (with _kmd.authtoken) as the active user.
    signupStartsSession: true,

    async init({ baseUrl, appKey, appSecret }) {
      await Kinvey.initialize({ appKey, appSecret, apiHostname: baseUrl });
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

    uploadFile: (bytes, filename, mimeType) => Kinvey.Files.upload(
      new Blob([bytes], { type: mimeType }), { filename, mimeType, size: bytes.length },
    ),

    downloadFile: async (id) => asBytes(await Kinvey.Files.download(id)),

    // At API version 2+ a plain DELETE only disables the user; hard removes it.
    removeUser: (id) => Kinvey.User.remove(id, { hard: true }),
  };
}(window.Kinvey));
