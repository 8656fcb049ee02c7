// sas-vectors.js prints SAS tokens made by the official Azure IoT Node.js
// SDK (azure-iot-common, pinned in package.json) for a fixed set of inputs,
// as JSON: [{"resource","keyName","key","expiry","token"}]. The Go test
// TestNodeVectors in ../sas checks that sas.Sign makes the identical token
// and that sas.Verify accepts it.
//
// "resource" is unescaped, as sas.ResourceURI returns it. The script builds
// each token the way the SDKs do:
//
//   - device and module tokens as azure-iot-device's
//     SharedAccessKeyAuthenticationProvider: encodeUriComponentStrict of
//     "<host>/devices/<id>[/modules/<mid>]", then
//     SharedAccessSignature.create(sr, keyName, key, expiry), keyName being
//     the connection string's SharedAccessKeyName or null;
//   - hub-level tokens as azure-iothub: SharedAccessSignature.create(host,
//     policy, key, expiry), with the host not escaped (it needs none).
//
// Regenerate (from the repository root, after npm ci in interop/):
//
//	node interop/sas-vectors.js > sas/testdata/node-vectors.json
'use strict';

const common = require('azure-iot-common');

const keys = [
  // 32 bytes 0x00..0x1f
  Buffer.from([...Array(32).keys()]).toString('base64'),
  // 16 bytes "tether-sas-test!"
  Buffer.from('tether-sas-test!').toString('base64'),
];
const expiries = [1795600800, 2000000000];

// Device IDs using every punctuation character Azure allows:
// - : . % _ * ? ! ( ) , = @ ; $ '
const devices = ['d1', 'a:b.c', 'x(1)!', "it's*", 'a%41b', 'w_x-y.z', 'q?r,s=t@u;v$'];

const cases = [];
function add(resource, sr, keyName, key, expiry) {
  const token = common.SharedAccessSignature.create(sr, keyName, key, expiry).toString();
  cases.push({ resource, keyName: keyName || '', key, expiry, token });
}
function device(host, deviceId, moduleId, keyName, key, expiry) {
  let resource = host + '/devices/' + deviceId;
  if (moduleId) {
    resource += '/modules/' + moduleId;
  }
  add(resource, common.encodeUriComponentStrict(resource), keyName, key, expiry);
}

devices.forEach((id, i) => device('localhost', id, '', null, keys[i % 2], expiries[i % 2]));
device('myhub.azure-devices.net', 'edge-1', '$edgeHub', null, keys[0], expiries[0]);
device('myhub.azure-devices.net', 'edge-1', 'm(1)', null, keys[1], expiries[1]);
device('localhost', 'd2', '', 'device', keys[0], expiries[1]); // a device connecting with a policy key
add('localhost', 'localhost', 'iothubowner', keys[0], expiries[0]);
add('myhub.azure-devices.net', 'myhub.azure-devices.net', 'registryRead', keys[1], expiries[1]);

process.stdout.write(JSON.stringify(cases, null, 2) + '\n');
