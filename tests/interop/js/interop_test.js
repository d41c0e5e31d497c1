// nats.js interop checks: connect, pub/sub, request/reply, headers and no responders against the
// server at $NATS_URL (started by run_js_interop.sh). Every wait is bounded by a timeout.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { connect, headers, StringCodec, ErrorCode } = require("nats");

const url = process.env.NATS_URL;
const wait_ms = 5000;
const sc = StringCodec();

// The next message of an async-iterable subscription, or a rejection after wait_ms.
async function nextMessage(iterator) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message within ${wait_ms} ms`)), wait_ms);
  });
  try {
    const { value, done } = await Promise.race([iterator.next(), timeout]);
    assert.equal(done, false);
    return value;
  } finally {
    clearTimeout(timer);
  }
}

async function withConnection(body) {
  assert.ok(url, "NATS_URL must be set");
  const nc = await connect({ servers: url, timeout: wait_ms, reconnect: false });
  try {
    await body(nc);
  } finally {
    await nc.close();
  }
}

test("interop (nats.js): a client connects and sees the server's INFO", () =>
  withConnection(async (nc) => {
    assert.ok(nc.info.server_id.length > 0);
    assert.equal(nc.info.max_payload, 1024 * 1024);
    assert.equal(nc.info.headers, true);
    await nc.flush();
  }));

test("interop (nats.js): a published message reaches a wildcard subscriber", () =>
  withConnection(async (nc) => {
    const sub = nc.subscribe("js.*.events");
    const iterator = sub[Symbol.asyncIterator]();
    await nc.flush();
    nc.publish("js.orders.events", sc.encode("created"));
    const msg = await nextMessage(iterator);
    assert.equal(msg.subject, "js.orders.events");
    assert.equal(sc.decode(msg.data), "created");
  }));

test("interop (nats.js): a request gets the responder's reply", () =>
  withConnection(async (nc) => {
    const sub = nc.subscribe("js.echo");
    (async () => {
      for await (const request of sub) request.respond(sc.encode(`reply to ${sc.decode(request.data)}`));
    })();
    await nc.flush();
    const reply = await nc.request("js.echo", sc.encode("hi"), { timeout: wait_ms });
    assert.equal(sc.decode(reply.data), "reply to hi");
  }));

test("interop (nats.js): headers survive the round trip", () =>
  withConnection(async (nc) => {
    const sub = nc.subscribe("js.headers");
    const iterator = sub[Symbol.asyncIterator]();
    await nc.flush();
    const sent = headers();
    sent.set("Trace-Id", "abc-123");
    sent.append("Multi", "one");
    sent.append("Multi", "two");
    nc.publish("js.headers", sc.encode("payload"), { headers: sent });
    const msg = await nextMessage(iterator);
    assert.equal(sc.decode(msg.data), "payload");
    assert.equal(msg.headers.get("Trace-Id"), "abc-123");
    assert.deepEqual(msg.headers.values("Multi"), ["one", "two"]);
  }));

test("interop (nats.js): a request with no subscribers fails with no responders", () =>
  withConnection(async (nc) => {
    const started = Date.now();
    await assert.rejects(nc.request("js.nobody.home", sc.encode("anyone?"), { timeout: 10 * wait_ms }),
      (error) => error.code === ErrorCode.NoResponders);
    assert.ok(Date.now() - started < wait_ms);
  }));
