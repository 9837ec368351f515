/*
 * Driver for kinvey@1.7.0, the 1.x "Kinvey JavaScript Library for Node.js" (X-Kinvey-API-Version 3).
 * Thin: each method is one public call of the library, as an app of that era would make it.
 */
'use strict';

const Kinvey = require('kinvey');

function names(error) {
  return error && typeof error === 'object' ? error.name : undefined;
}

module.exports = {
  sdk: 'kinvey@1.7.0',
  apiVersion: Number(Kinvey.API_VERSION),
  // The 1.x library stores the signup response (with _kmd.authtoken) as the active user.
  signupStartsSession: true,

  // clientAppVersion (optional): the app's release, sent as X-Kinvey-Client-App-Version.
  async init({ baseUrl, appKey, appSecret, clientAppVersion }) {
    // init() insists on https://, so it runs with the default host; the library reads
    // Kinvey.APIHostName on every request, so pointing it elsewhere afterwards is enough.
    await Kinvey.init({ appKey, appSecret, clientAppVersion });
    Kinvey.APIHostName = baseUrl;
  },

  ping: () => Kinvey.ping(),

  signup: (username, password) => Kinvey.User.signup({ username, password }),

  async sessionToken() {
    const user = Kinvey.getActiveUser();
    return user && user._kmd ? user._kmd.authtoken : undefined;
  },

  logout: () => Kinvey.User.logout(),

  login: (username, password) => Kinvey.User.login(username, password),

  isInvalidCredentials: (error) => names(error) === Kinvey.Error.INVALID_CREDENTIALS,

  isNotFound: (error) => names(error) === Kinvey.Error.ENTITY_NOT_FOUND,

  save: (collection, entity) => Kinvey.DataStore.save(collection, entity),

  findById: (collection, id) => Kinvey.DataStore.get(collection, id),

  findWhere: (collection, field, value) => Kinvey.DataStore.find(collection, new Kinvey.Query().equalTo(field, value)),

  count: (collection) => Kinvey.DataStore.count(collection),

  async removeById(collection, id) {
    return (await Kinvey.DataStore.destroy(collection, id)).count;
  },

  async removeWhere(collection, field, value) {
    return (await Kinvey.DataStore.clean(collection, new Kinvey.Query().equalTo(field, value))).count;
  },

  uploadFile: (bytes, filename, mimeType) => Kinvey.File.upload(bytes, { _filename: filename, mimeType, size: bytes.length }),

  async downloadFile(id) {
    const file = await Kinvey.File.download(id);
    return file._data; // a Buffer: the library reads file downloads raw
  },

  // At API version 2+ a plain DELETE only disables the user; hard removes it.
  removeUser: (id) => Kinvey.User.destroy(id, { hard: true }),
};
