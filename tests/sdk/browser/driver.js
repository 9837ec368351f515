/*
 * Driver for kinvey-html5-sdk@3.12.5 in a browser page (X-Kinvey-Api-Version 4, fixed in the
 * SDK), the generation hybrid apps (PhoneGap/Cordova/Ionic) shipped: the 3.x family's driver
 * (../kinvey3-driver.js) on window.Kinvey (the SDK's UMD bundle), with the browser's file bytes.
 * Defines window.KinveyDriver.
 */
(function (Kinvey) {
  'use strict';

  // The SDK hands a download back as text (superagent over XHR), a Blob or an ArrayBuffer.
  async function asBytes(body) {
    if (body instanceof Uint8Array) return body;
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
    return new TextEncoder().encode(String(body));
  }

  window.KinveyDriver = window.kinvey3Driver(Kinvey, {
    sdk: 'kinvey-html5-sdk@3.12.5',
    uploadFile: (bytes, filename, mimeType) => Kinvey.Files.upload(
      new Blob([bytes], { type: mimeType }), { filename, mimeType, size: bytes.length },
    ),
    downloadFile: async (id) => asBytes(await Kinvey.Files.download(id)),
  });
}(window.Kinvey));
