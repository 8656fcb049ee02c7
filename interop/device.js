// Drives the official Azure IoT device SDK (azure-iot-device with the
// azure-iot-device-mqtt transports, pinned in package.json) against a
// running tether serve, over one transport: Mqtt (mqtts on 8883) or MqttWs
// (wss on 443). The service side of each exchange uses the official
// azure-iothub SDK (methods, twins) or, where that SDK would need AMQP
// (cloud-to-device send), the Go test that runs this script.
//
// Run by device_test.go, with:
//
//   TRANSPORT                    Mqtt or MqttWs
//   DEVICE_CONNECTION_STRING     the device under test (enabled, SAS keys)
//   DISABLED_CONNECTION_STRING   a second device whose status is disabled
//   CONNECTION_STRING            the hub's iothubowner policy connection string
//   CA_FILE                      tether-data/tls/ca.pem, given to client.setOptions({ ca })
//   RUN_ID                       a token to make payloads and property values unique
//
// Every step prints "ok <transport> <step>" when its assertions hold; any
// failure prints "FAIL <transport> <step>: <error>" and exits 1. The Go test
// checks that every expected step reported ok.
//
// Some steps need the Go side (the hub's own HTTPS API, which the Node
// service SDK cannot reach for C2D). For those the script prints one line
// "need <action> <JSON arguments>" and waits for the Go test to answer on
// standard input with "done" or "fail <reason>".
'use strict';
const assert = require('assert');
const readline = require('readline');
const { Client, Message } = require('azure-iot-device');
const { Mqtt, MqttWs } = require('azure-iot-device-mqtt');
const { NoRetry } = require('azure-iot-common');
const iothub = require('azure-iothub');

for (const v of ['TRANSPORT', 'DEVICE_CONNECTION_STRING', 'DISABLED_CONNECTION_STRING', 'CONNECTION_STRING', 'CA_FILE']) {
  if (!process.env[v]) {
    console.error(v + ' is not set');
    process.exit(2);
  }
}
const transportName = process.env.TRANSPORT;
const Transport = { Mqtt, MqttWs }[transportName];
if (!Transport) {
  console.error('TRANSPORT must be Mqtt or MqttWs, not ' + transportName);
  process.exit(2);
}
const deviceCS = process.env.DEVICE_CONNECTION_STRING;
const deviceId = /DeviceId=([^;]+)/.exec(deviceCS)[1];
const ca = process.env.CA_FILE; // setOptions reads a file path, else takes the string as PEM
const runId = process.env.RUN_ID || String(Date.now());
const registry = iothub.Registry.fromConnectionString(process.env.CONNECTION_STRING);
const service = iothub.Client.fromConnectionString(process.env.CONNECTION_STRING);

// Every wait is bounded: a promise that rejects after ms.
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out after ' + ms + ' ms waiting for ' + what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// waiter() returns a promise plus its resolve function, for events that
// callbacks deliver.
function waiter() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

const cleanups = [];
async function step(name, fn) {
  try {
    await fn();
    console.log('ok ' + transportName + ' ' + name);
  } catch (err) {
    console.log('FAIL ' + transportName + ' ' + name + ': ' + (err && err.stack ? err.stack : err));
    for (const c of cleanups) {
      try { c(); } catch (_) { /* best effort */ }
    }
    process.exit(1);
  }
}

// Requests to the Go test: "need <action> <json>", answered by one line.
const input = readline.createInterface({ input: process.stdin });
const answers = [];
input.on('line', (line) => {
  const next = answers.shift();
  if (next) next(line);
});
function need(action, args) {
  const w = waiter();
  answers.push(w.resolve);
  console.log('need ' + action + ' ' + JSON.stringify(args));
  return within(30000, 'the Go test to ' + action, w.promise).then((line) => {
    if (line !== 'done') throw new Error('the Go test could not ' + action + ': ' + line);
  });
}

// A device client of this transport, trusting the hub's CA (the ca option
// replaces Node's default roots for this connection).
async function newClient(cs) {
  const client = Client.fromConnectionString(cs, Transport);
  await client.setOptions({ ca });
  return client;
}

// The SAS token the MQTT layer currently connects with (mqtt-base keeps it
// in its config; read only to prove that a renewal changed it).
function currentToken(client) {
  return client._transport._mqtt._config.sharedAccessSignature;
}

(async () => {
  let client;
  // State the device-side handlers share with the steps.
  const methodCalls = [];
  let onMethod = null; // resolves when the next method call arrives
  let onDesired = null; // { key, value, resolve }: resolves when desired[key] === value arrives
  let onC2D = null; // resolves with the next C2D message
  let twin;

  await step('open', async () => {
    client = await newClient(deviceCS);
    cleanups.push(() => client.close());
    client.on('error', (err) => console.log('device client error event: ' + err));
    await within(30000, 'open', client.open());
  });

  // Register every device-side feature now. The SDK subscribes lazily, and
  // asynchronously, when a handler is added; the QoS 1 telemetry in the next
  // step travels on the same connection after those SUBSCRIBEs, so once its
  // PUBACKs are back the hub has seen them.
  await step('register-handlers', async () => {
    // Direct method "echo": answers 200 with what it was sent, wrapped.
    client.onDeviceMethod('echo', (request, response) => {
      methodCalls.push(request);
      response.send(200, { echoed: request.payload, from: deviceId }, (err) => {
        if (err) console.log('device method response error: ' + err);
        if (onMethod) onMethod(request);
      });
    });
    // Cloud-to-device messages: completed as they arrive (on MQTT the PUBACK
    // already settles the message; complete() is what applications call).
    client.on('message', (msg) => {
      client.complete(msg, (err) => {
        if (err) console.log('device complete error: ' + err);
        if (onC2D) onC2D(msg);
      });
    });
    twin = await within(15000, 'getTwin', client.getTwin());
    assert.ok(twin.properties.desired, 'twin has desired properties');
    assert.ok(twin.properties.reported, 'twin has reported properties');
    twin.on('properties.desired', (patch) => {
      if (onDesired && patch && patch[onDesired.key] === onDesired.value) onDesired.resolve(patch);
    });
  });

  // Ten messages with a message ID, content type, content encoding and
  // application properties (one needing percent-encoding). The Go test reads
  // them back through tether monitor-events.
  await step('telemetry', async () => {
    for (let i = 0; i < 10; i++) {
      const msg = new Message(JSON.stringify({ seq: i, run: runId }));
      msg.messageId = runId + '-' + transportName + '-' + i;
      msg.contentType = 'application/json';
      msg.contentEncoding = 'utf-8';
      msg.properties.add('seq', String(i));
      msg.properties.add('transport', transportName);
      msg.properties.add('needs encoding', 'a&b=c/d?é');
      await within(15000, 'sendEvent ' + i, client.sendEvent(msg));
    }
  });

  // The service SDK invokes "echo"; the device checks the request it got,
  // the service checks the answer.
  async function invokeEcho(label) {
    const payload = { label, run: runId, nested: { n: 42, list: [1, 'two', null] } };
    const w = waiter();
    onMethod = w.resolve;
    const { result } = await within(30000, 'invokeDeviceMethod', service.invokeDeviceMethod(deviceId, {
      methodName: 'echo',
      payload,
      responseTimeoutInSeconds: 15,
    }));
    const request = await within(5000, 'the device to see the call', w.promise);
    onMethod = null;
    assert.strictEqual(request.methodName, 'echo');
    assert.deepStrictEqual(request.payload, payload, 'device got the payload');
    assert.strictEqual(result.status, 200, 'status: ' + JSON.stringify(result));
    assert.deepStrictEqual(result.payload, { echoed: payload, from: deviceId }, 'service got the answer');
  }

  // A reported-property patch from the device, read back through the service twin.
  async function reportAndCheck(label) {
    const patch = { interop: { label, run: runId, transport: transportName } };
    await within(15000, 'reported update', new Promise((resolve, reject) => {
      twin.properties.reported.update(patch, (err) => (err ? reject(err) : resolve()));
    }));
    const { responseBody: serviceTwin } = await registry.getTwin(deviceId);
    assert.deepStrictEqual(serviceTwin.properties.reported.interop, patch.interop, 'service twin reported.interop');
  }

  // A desired-property patch from the service, seen by the device's listener.
  async function desireAndCheck(label) {
    const value = label + '-' + runId;
    const w = waiter();
    onDesired = { key: 'interopLabel', value, resolve: w.resolve };
    const { responseBody: serviceTwin } = await registry.getTwin(deviceId);
    await registry.updateTwin(deviceId, { properties: { desired: { interopLabel: value, interopNumber: 7 } } }, serviceTwin.etag);
    const patch = await within(15000, 'properties.desired with interopLabel=' + value, w.promise);
    onDesired = null;
    assert.strictEqual(patch.interopNumber, 7);
    assert.strictEqual(typeof patch.$version, 'number', 'patch carries $version');
    assert.strictEqual(twin.properties.desired.interopLabel, value, 'merged into the twin');
  }

  // A C2D message sent by the Go test through POST /devices/{id}/messages/deviceBound.
  async function c2dAndCheck(label) {
    const messageId = label + '-' + runId + '-' + transportName;
    const body = JSON.stringify({ label, run: runId });
    const w = waiter();
    onC2D = w.resolve;
    await need('c2d', { deviceId, messageId, body, correlationId: 'corr-' + label, properties: { color: 'blue', label } });
    const msg = await within(15000, 'C2D message ' + messageId, w.promise);
    onC2D = null;
    assert.strictEqual(msg.messageId, messageId);
    assert.strictEqual(msg.data.toString(), body);
    assert.strictEqual(msg.correlationId, 'corr-' + label);
    assert.strictEqual(msg.contentType, 'application/json');
    assert.strictEqual(msg.properties.getValue('color'), 'blue');
    assert.strictEqual(msg.properties.getValue('label'), label);
  }

  await step('method', () => invokeEcho('first'));
  await step('reported', () => reportAndCheck('first'));
  await step('desired', () => desireAndCheck('first'));
  await step('c2d', () => c2dAndCheck('first'));

  // Force a SAS renewal: setOptions with tokenRenewal while connected makes
  // the SDK sign a new token at once; mqtt-base then DISCONNECTs and
  // CONNECTs again with clean: false and the new password, and sends no
  // SUBSCRIBE afterwards. Methods, twin responses, desired updates and C2D
  // keep working only if the hub kept the session's subscriptions.
  // ca must be given again: the MQTT transport's setOptions replaces its
  // whole option set.
  await step('renewal', async () => {
    const before = currentToken(client);
    // Observe the end of the reconnect: wrap mqtt-base's updateSharedAccessSignature.
    const base = client._transport._mqtt;
    const original = base.updateSharedAccessSignature;
    const w = waiter();
    base.updateSharedAccessSignature = function (sas, callback) {
      return original.call(this, sas, (err, ...rest) => {
        w.resolve(err || null);
        callback(err, ...rest);
      });
    };
    // A validity other than the default hour, so that the new token differs
    // from the first even within the same second; the next renewal would be
    // due in 2 minutes, after the script ends.
    await client.setOptions({ ca, tokenRenewal: { tokenValidTimeInSeconds: 7200, tokenRenewalMarginInSeconds: 7080 } });
    const err = await within(40000, 'the token renewal reconnect', w.promise);
    base.updateSharedAccessSignature = original;
    assert.ifError(err);
    const after = currentToken(client);
    assert.notStrictEqual(after, before, 'the token changed');
    console.log('renewed token expiry: ' + /se=(\d+)/.exec(before)[1] + ' -> ' + /se=(\d+)/.exec(after)[1]);
  });
  await step('method-after-renewal', () => invokeEcho('after-renewal'));
  await step('reported-after-renewal', () => reportAndCheck('after-renewal'));
  await step('desired-after-renewal', () => desireAndCheck('after-renewal'));
  await step('c2d-after-renewal', () => c2dAndCheck('after-renewal'));

  // Session takeover: a second client with the same identity connects; the
  // hub must drop the first. With NoRetry the first client surfaces the drop
  // as a 'disconnect' event instead of reconnecting (and kicking back).
  await step('takeover', async () => {
    client.setRetryPolicy(new NoRetry());
    const dropped = waiter();
    client.once('disconnect', (result) => dropped.resolve(result));
    const second = await newClient(deviceCS);
    second.setRetryPolicy(new NoRetry());
    cleanups.push(() => second.close());
    await within(30000, 'second client open', second.open());
    await within(15000, "the first client's 'disconnect' event", dropped.promise);
    // The second connection works: a twin round trip.
    const t = await within(15000, 'second client getTwin', second.getTwin());
    assert.strictEqual(t.properties.desired.interopLabel, 'after-renewal-' + runId);
    await second.close();
    await client.close();
  });

  // A wrong key: CONNACK 5, which the SDK reports as UnauthorizedError
  // "…Connection refused: Not authorized…" (a hang-up would also give
  // UnauthorizedError, so the text is checked).
  await step('wrong-key', async () => {
    const wrong = deviceCS.replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=' + Buffer.alloc(32, 7).toString('base64'));
    const c = await newClient(wrong);
    c.setRetryPolicy(new NoRetry());
    await assert.rejects(within(30000, 'open with a wrong key', c.open()), (err) => {
      assert.strictEqual(err.constructor.name, 'UnauthorizedError', 'got ' + err.constructor.name + ': ' + err.message);
      assert.match(err.message, /Not authorized/);
      return true;
    });
  });

  // A disabled device: CONNACK 3, which the SDK reports as
  // ServiceUnavailableError (retried by default, hence NoRetry).
  await step('disabled', async () => {
    const c = await newClient(process.env.DISABLED_CONNECTION_STRING);
    c.setRetryPolicy(new NoRetry());
    await assert.rejects(within(30000, 'open of a disabled device', c.open()), (err) => {
      assert.strictEqual(err.constructor.name, 'ServiceUnavailableError', 'got ' + err.constructor.name + ': ' + err.message);
      assert.match(err.message, /Server unavailable/);
      return true;
    });
  });

  input.close();
  console.log('done ' + transportName);
  process.exit(0);
})();
