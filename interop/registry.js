// Drives the official azure-iothub Registry (pinned in package.json)
// against a running tether serve. Run by the Go test in this folder:
//
//   CONNECTION_STRING='HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=…' \
//   NODE_EXTRA_CA_CERTS=tether-data/tls/ca.pem node registry.js
//
// Every step prints "ok <name>" when its assertions hold; any failure
// prints "FAIL <name>: <error>" and exits 1. The Go test checks that every
// expected step reported ok.
'use strict';
const assert = require('assert');
const { Registry } = require('azure-iothub');

const cs = process.env.CONNECTION_STRING;
if (!cs) {
  console.error('CONNECTION_STRING is not set');
  process.exit(2);
}
const registry = Registry.fromConnectionString(cs);
const suffix = process.env.RUN_ID || String(Date.now());
const withKeys = 'interop-keys-' + suffix;
const noKeys = 'interop-nokeys-' + suffix;
const primaryKey = Buffer.alloc(32, 1).toString('base64');
const secondaryKey = Buffer.alloc(32, 2).toString('base64');

async function step(name, fn) {
  try {
    await fn();
    console.log('ok ' + name);
  } catch (err) {
    console.log('FAIL ' + name + ': ' + (err && err.stack ? err.stack : err));
    process.exit(1);
  }
}

(async () => {
  await step('create-without-keys', async () => {
    const { responseBody: d } = await registry.create({ deviceId: noKeys });
    assert.strictEqual(d.deviceId, noKeys);
    assert.strictEqual(d.status, 'enabled');
    const k = d.authentication.symmetricKey;
    assert.strictEqual(Buffer.from(k.primaryKey, 'base64').length, 32, 'primary key generated');
    assert.strictEqual(Buffer.from(k.secondaryKey, 'base64').length, 32, 'secondary key generated');
    assert.notStrictEqual(k.primaryKey, k.secondaryKey);
  });

  await step('create-with-keys', async () => {
    const { responseBody: d } = await registry.create({
      deviceId: withKeys,
      status: 'enabled',
      authentication: { symmetricKey: { primaryKey, secondaryKey } },
    });
    assert.strictEqual(d.authentication.symmetricKey.primaryKey, primaryKey);
    assert.strictEqual(d.authentication.symmetricKey.secondaryKey, secondaryKey);
  });

  await step('create-duplicate', async () => {
    await assert.rejects(registry.create({ deviceId: withKeys }), (err) => {
      assert.strictEqual(err.constructor.name, 'DeviceAlreadyExistsError', 'got ' + err.constructor.name + ': ' + err.message);
      return true;
    });
  });

  await step('get', async () => {
    const { responseBody: d, httpResponse } = await registry.get(withKeys);
    assert.strictEqual(d.deviceId, withKeys);
    assert.strictEqual(d.authentication.symmetricKey.primaryKey, primaryKey);
    assert.strictEqual(d.connectionState, 'Disconnected');
    assert.match(httpResponse.headers['content-type'], /application\/json/);
    assert.match(httpResponse.headers.etag, /^".+"$/);
  });

  await step('list', async () => {
    const { responseBody: list } = await registry.list();
    const ids = list.map((d) => d.deviceId);
    assert.ok(ids.includes(withKeys) && ids.includes(noKeys), 'list has both devices: ' + ids);
  });

  await step('disable-through-update', async () => {
    const { responseBody: d } = await registry.get(withKeys);
    d.status = 'disabled';
    d.statusReason = 'interop test';
    const { responseBody: u } = await registry.update(d);
    assert.strictEqual(u.status, 'disabled');
    assert.strictEqual(u.statusReason, 'interop test');
    assert.strictEqual(u.authentication.symmetricKey.primaryKey, primaryKey, 'keys kept');
    const { responseBody: g } = await registry.get(withKeys);
    assert.strictEqual(g.status, 'disabled');
  });

  await step('twin-get', async () => {
    const { responseBody: twin } = await registry.getTwin(withKeys);
    assert.strictEqual(twin.deviceId, withKeys);
    assert.ok(twin.properties.desired, 'desired present');
    assert.ok(twin.properties.reported, 'reported present');
    assert.strictEqual(typeof twin.etag, 'string');
  });

  await step('twin-update', async () => {
    const { responseBody: twin } = await registry.getTwin(withKeys);
    await twin.update({ tags: { site: 'lab' }, properties: { desired: { telemetryInterval: 30 } } });
    const { responseBody: again } = await registry.getTwin(withKeys);
    assert.strictEqual(again.tags.site, 'lab');
    assert.strictEqual(again.properties.desired.telemetryInterval, 30);
    const { responseBody: patched } = await registry.updateTwin(withKeys, { properties: { desired: { telemetryInterval: 60 } } }, again.etag);
    assert.strictEqual(patched.properties.desired.telemetryInterval, 60);
  });

  await step('delete', async () => {
    await registry.delete(withKeys);
    await registry.delete(noKeys);
  });

  await step('missing-device', async () => {
    await assert.rejects(registry.get(withKeys), (err) => {
      assert.strictEqual(err.constructor.name, 'DeviceNotFoundError', 'got ' + err.constructor.name + ': ' + err.message);
      return true;
    });
  });

  await step('wrong-key', async () => {
    const wrong = cs.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=' + Buffer.alloc(32, 9).toString('base64'));
    await assert.rejects(Registry.fromConnectionString(wrong).list(), (err) => {
      assert.strictEqual(err.constructor.name, 'UnauthorizedError', 'got ' + err.constructor.name + ': ' + err.message);
      return true;
    });
  });
})();
