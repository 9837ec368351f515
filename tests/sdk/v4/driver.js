/*
 * Driver for kinvey-node-sdk@3.12.5 (X-Kinvey-API-Version 4, fixed in the SDK): the 3.x
 * family's driver (../kinvey3-driver.js) with Node's file bytes.
 */
'use strict';

const Kinvey = require('kinvey-node-sdk');
const kinvey3Driver = require('../kinvey3-driver');

module.exports = kinvey3Driver(Kinvey, {
  sdk: 'kinvey-node-sdk@3.12.5',

  uploadFile: (bytes, filename, mimeType) => Kinvey.Files.upload(bytes, { filename, mimeType, size: bytes.length }),

  async downloadFile(id) {
    // The SDK's HTTP layer (request) hands the body back as a UTF-8 decoded string.
    const body = await Kinvey.Files.download(id);
    return Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  },
});
