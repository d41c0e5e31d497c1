// nats.js JetStream interop checks: stream and consumer management (jsm), publish with PubAck,
// dedup and expectations, pull consumers (fetch/consume/next), push and ordered consumers, acks,
// KV and the object store, against the server at $NATS_URL (started by
// `run_js_interop.sh --jetstream`). Every test uses its own stream names; every wait is bounded.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const {
  connect,
  consumerOpts,
  createInbox,
  AckPolicy,
  DeliverPolicy,
  StringCodec,
  StorageType,
} = require("nats");

const child_process = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const url = process.env.NATS_URL;
const wait_ms = 5000;
const sc = StringCodec();

// Rejects after bound_ms (default wait_ms) unless promise settles first.
async function within(promise, what, bound_ms = wait_ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${bound_ms} ms`)), bound_ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// nats.js iterators may be entered only once: take() reuses the iterator it made for iterable.
const iterators = new WeakMap();
function iteratorOf(iterable) {
  if (!iterators.has(iterable)) iterators.set(iterable, iterable[Symbol.asyncIterator]());
  return iterators.get(iterable);
}

// The next count values of an async iterable, each bounded by bound_ms (default wait_ms).
async function take(iterable, count, what, bound_ms = wait_ms) {
  const iterator = iteratorOf(iterable);
  const values = [];
  while (values.length < count) {
    const { value, done } = await within(iterator.next(), what, bound_ms);
    if (done) break;
    values.push(value);
  }
  return values;
}

// Drains a finite iterator (it ends by itself), bounded by wait_ms for each step.
async function all(iterable, what) {
  const iterator = iteratorOf(iterable);
  const values = [];
  for (let step = 0; step < 10000; step++) {
    const { value, done } = await within(iterator.next(), what);
    if (done) return values;
    values.push(value);
  }
  throw new Error(`${what}: more than 10000 values`);
}

async function withJetStream(body) {
  assert.ok(url, "NATS_URL must be set");
  const nc = await connect({ servers: url, timeout: wait_ms, reconnect: false });
  try {
    const jsm = await nc.jetstreamManager({ timeout: wait_ms });
    const js = nc.jetstream({ timeout: wait_ms });
    await body({ nc, jsm, js });
  } finally {
    await nc.close();
  }
}

// A JetStream API error as nats.js reports it: err.api_error {code, err_code, description}.
async function apiError(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected the request to fail");
}

test("interop (nats.js) js: jsm streams add/info/update/list/names/delete", () =>
  withJetStream(async ({ jsm }) => {
    const created = await jsm.streams.add({ name: "JSM", subjects: ["jsm.*"], storage: StorageType.Memory });
    assert.equal(created.config.name, "JSM");
    assert.deepEqual(created.config.subjects, ["jsm.*"]);
    assert.equal(created.config.max_msgs, -1);
    assert.equal(created.config.num_replicas, 1);
    assert.equal(created.config.duplicate_window, 120 * 1e9);
    assert.equal(created.state.messages, 0);

    const info = await jsm.streams.info("JSM");
    assert.equal(info.config.storage, StorageType.Memory);
    const updated = await jsm.streams.update("JSM", { subjects: ["jsm.*", "more.>"], max_msgs: 10 });
    assert.deepEqual(updated.config.subjects, ["jsm.*", "more.>"]);
    assert.equal(updated.config.max_msgs, 10);

    await jsm.streams.add({ name: "JSM2", subjects: ["jsm2.*"] });
    const listed = (await jsm.streams.list().next()).map((s) => s.config.name).sort();
    assert.deepEqual(listed, ["JSM", "JSM2"]);
    const names = (await jsm.streams.names().next()).sort();
    assert.deepEqual(names, ["JSM", "JSM2"]);
    assert.equal(await jsm.streams.find("more.x"), "JSM");

    const missing = await apiError(jsm.streams.info("NOPE"));
    assert.equal(missing.api_error.err_code, 10059);
    assert.equal(missing.api_error.code, 404);
    const overlap = await apiError(jsm.streams.add({ name: "OTHER", subjects: ["jsm.a"] }));
    assert.equal(overlap.api_error.err_code, 10065);

    assert.equal(await jsm.streams.delete("JSM"), true);
    assert.equal(await jsm.streams.delete("JSM2"), true);
    assert.deepEqual(await jsm.streams.names().next(), []);
  }));

test("interop (nats.js) js: publish gets PubAcks, msgID dedup and expect options", () =>
  withJetStream(async ({ jsm, js }) => {
    await jsm.streams.add({ name: "PUB", subjects: ["pub.>"] });
    const first = await js.publish("pub.a", sc.encode("one"), { msgID: "m1" });
    assert.equal(first.stream, "PUB");
    assert.equal(first.seq, 1);
    assert.equal(first.duplicate, false);
    const again = await js.publish("pub.a", sc.encode("one"), { msgID: "m1" });
    assert.equal(again.seq, 1);
    assert.equal(again.duplicate, true);

    const second = await js.publish("pub.b", sc.encode("two"), {
      msgID: "m2",
      expect: { lastSequence: 1, streamName: "PUB" },
    });
    assert.equal(second.seq, 2);
    const wrongSeq = await apiError(js.publish("pub.b", sc.encode("x"), { expect: { lastSequence: 1 } }));
    assert.equal(wrongSeq.api_error.err_code, 10071);
    const wrongStream = await apiError(js.publish("pub.b", sc.encode("x"), { expect: { streamName: "OTHER" } }));
    assert.equal(wrongStream.api_error.err_code, 10060);
    const third = await js.publish("pub.c", sc.encode("three"), { msgID: "m3", expect: { lastMsgID: "m2" } });
    assert.equal(third.seq, 3);
    const wrongMsgId = await apiError(js.publish("pub.c", sc.encode("x"), { expect: { lastMsgID: "m2" } }));
    assert.equal(wrongMsgId.api_error.err_code, 10070);
    const bySubject = await js.publish("pub.a", sc.encode("four"), { expect: { lastSubjectSequence: 1 } });
    assert.equal(bySubject.seq, 4);
    const wrongSubject = await apiError(js.publish("pub.a", sc.encode("x"), { expect: { lastSubjectSequence: 1 } }));
    assert.equal(wrongSubject.api_error.err_code, 10071);

    const info = await jsm.streams.info("PUB");
    assert.equal(info.state.messages, 4);
    assert.equal(info.state.first_seq, 1);
    assert.equal(info.state.last_seq, 4);
    const stored = await jsm.streams.getMessage("PUB", { seq: 3 });
    assert.equal(stored.subject, "pub.c");
    assert.equal(sc.decode(stored.data), "three");
    assert.equal(stored.header.get("Nats-Msg-Id"), "m3");
    const last = await jsm.streams.getMessage("PUB", { last_by_subj: "pub.a" });
    assert.equal(last.seq, 4);
  }));

test("interop (nats.js) js: jsm consumers add/info/list/delete", () =>
  withJetStream(async ({ jsm, js }) => {
    await jsm.streams.add({ name: "CONS", subjects: ["cons.*"] });
    for (let i = 0; i < 3; i++) await js.publish("cons.x", sc.encode(`m${i}`));
    const added = await jsm.consumers.add("CONS", {
      durable_name: "D1",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "cons.x",
    });
    assert.equal(added.name, "D1");
    assert.equal(added.stream_name, "CONS");
    assert.equal(added.config.ack_policy, AckPolicy.Explicit);
    assert.equal(added.config.deliver_policy, DeliverPolicy.All);
    assert.equal(added.config.ack_wait, 30 * 1e9);
    assert.equal(added.config.max_deliver, -1);
    assert.equal(added.num_pending, 3);
    assert.equal(added.delivered.stream_seq, 0);

    await jsm.consumers.add("CONS", { durable_name: "D2", ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.Last });
    const info = await jsm.consumers.info("CONS", "D2");
    assert.equal(info.config.deliver_policy, DeliverPolicy.Last);
    assert.equal(info.num_pending, 1);

    const listed = (await jsm.consumers.list("CONS").next()).map((c) => c.name).sort();
    assert.deepEqual(listed, ["D1", "D2"]);
    const missing = await apiError(jsm.consumers.info("CONS", "NOPE"));
    assert.equal(missing.api_error.err_code, 10014);
    assert.equal(await jsm.consumers.delete("CONS", "D1"), true);
    const after = (await jsm.consumers.list("CONS").next()).map((c) => c.name);
    assert.deepEqual(after, ["D2"]);
  }));

test("interop (nats.js) js: pull consumer fetch, next and consume with acks", () =>
  withJetStream(async ({ jsm, js }) => {
    await jsm.streams.add({ name: "PULL", subjects: ["pull.*"] });
    for (let i = 0; i < 10; i++) await js.publish("pull.a", sc.encode(`m${i}`));
    await jsm.consumers.add("PULL", { durable_name: "P", ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get("PULL", "P");

    const fetched = await all(await consumer.fetch({ max_messages: 4, expires: 2000 }), "fetch");
    assert.deepEqual(fetched.map((m) => sc.decode(m.data)), ["m0", "m1", "m2", "m3"]);
    assert.deepEqual(fetched.map((m) => m.seq), [1, 2, 3, 4]);
    assert.equal(fetched[0].info.stream, "PULL");
    assert.equal(fetched[0].info.consumer, "P");
    assert.equal(fetched[0].info.redeliveryCount, 1);
    assert.equal(fetched[3].info.pending, 6);
    for (const m of fetched) m.ack();

    const next = await consumer.next({ expires: 2000 });
    assert.ok(next);
    assert.equal(sc.decode(next.data), "m4");
    assert.equal(await within(next.ackAck(), "ackAck"), true);

    const messages = await consumer.consume({ max_messages: 3 });
    const consumed = await take(messages, 5, "consume");
    for (const m of consumed) m.ack();
    assert.deepEqual(consumed.map((m) => sc.decode(m.data)), ["m5", "m6", "m7", "m8", "m9"]);
    messages.stop();

    // All acked: the ack floor reaches the end. ackAck above proves acks are processed in order.
    const last = await consumer.next({ expires: 1000 });
    assert.equal(last, null);
    const info = await consumer.info();
    assert.equal(info.num_pending, 0);
    assert.equal(info.delivered.stream_seq, 10);
    assert.equal(info.ack_floor.stream_seq, 10);
    assert.equal(info.num_ack_pending, 0);
  }));

test("interop (nats.js) js: nak redelivers, working is accepted, term ends a message", () =>
  withJetStream(async ({ jsm, js }) => {
    await jsm.streams.add({ name: "ACKS", subjects: ["acks.*"] });
    await js.publish("acks.a", sc.encode("nak-me"));
    await js.publish("acks.a", sc.encode("term-me"));
    await js.publish("acks.a", sc.encode("work-on-me"));
    await jsm.consumers.add("ACKS", { durable_name: "A", ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get("ACKS", "A");

    const batch = await all(await consumer.fetch({ max_messages: 3, expires: 2000 }), "fetch");
    assert.equal(batch.length, 3);
    batch[0].nak();
    batch[1].term();
    batch[2].working();
    assert.equal(await within(batch[2].ackAck(), "ackAck"), true);

    const again = await consumer.next({ expires: 2000 });
    assert.ok(again);
    assert.equal(sc.decode(again.data), "nak-me");
    assert.equal(again.info.redeliveryCount, 2);
    assert.equal(again.redelivered, true);
    assert.equal(await within(again.ackAck(), "ackAck"), true);

    // The terminated message is not redelivered; nothing is pending.
    const none = await consumer.next({ expires: 1000 });
    assert.equal(none, null);
    const info = await consumer.info();
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.ack_floor.stream_seq, 3);
  }));

test("interop (nats.js) js: a push durable with a deliver group spreads messages, manual acks", () =>
  withJetStream(async ({ nc, jsm, js }) => {
    await jsm.streams.add({ name: "PUSH", subjects: ["push.*"] });
    const inbox = createInbox();
    const options = () => {
      const opts = consumerOpts();
      opts.durable("WORKERS");
      opts.queue("workers");
      opts.deliverTo(inbox);
      opts.manualAck();
      opts.ackExplicit();
      return opts;
    };
    const first = await js.subscribe("push.a", options());
    const second = await js.subscribe("push.a", options());
    const received = [];
    const done = new Promise((resolve) => {
      const collect = async (sub, who) => {
        for await (const m of sub) {
          received.push([who, sc.decode(m.data)]);
          m.ack();
          if (received.length === 20) resolve();
        }
      };
      collect(first, "first");
      collect(second, "second");
    });
    for (let i = 0; i < 20; i++) await js.publish("push.a", sc.encode(`m${i}`));
    await within(done, "20 push deliveries");
    const payloads = received.map(([, data]) => data).sort();
    assert.deepEqual(payloads, Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    await nc.flush();
    const info = await jsm.consumers.info("PUSH", "WORKERS");
    assert.equal(info.config.deliver_group, "workers");
    assert.equal(info.config.deliver_subject, inbox);
    first.unsubscribe();
    second.unsubscribe();
  }));

test("interop (nats.js) js: an ordered consumer (pull) and an ordered push subscription", () =>
  withJetStream(async ({ jsm, js }) => {
    await jsm.streams.add({ name: "ORD", subjects: ["ord.*"] });
    for (let i = 0; i < 50; i++) await js.publish(i % 2 ? "ord.odd" : "ord.even", sc.encode(`m${i}`));

    const ordered = await js.consumers.get("ORD", { filterSubjects: "ord.even" });
    const messages = await ordered.consume();
    const evens = await take(messages, 25, "ordered consume");
    assert.deepEqual(evens.map((m) => sc.decode(m.data)), Array.from({ length: 25 }, (_, i) => `m${2 * i}`));
    messages.stop();

    const opts = consumerOpts();
    opts.orderedConsumer();
    const sub = await js.subscribe("ord.*", opts);
    const pushed = await take(sub, 50, "ordered push");
    assert.deepEqual(pushed.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => i + 1));
    sub.unsubscribe();
  }));

test("interop (nats.js) kv: put/get/create/update/delete/purge/keys/history/status", () =>
  withJetStream(async ({ js, jsm }) => {
    const kv = await js.views.kv("settings", { history: 5 });
    const r1 = await kv.put("color", sc.encode("red"));
    assert.equal(r1, 1);
    const entry = await kv.get("color");
    assert.equal(entry.key, "color");
    assert.equal(entry.bucket, "settings");
    assert.equal(sc.decode(entry.value), "red");
    assert.equal(entry.revision, 1);
    assert.equal(entry.operation, "PUT");

    await apiError(kv.create("color", sc.encode("blue")));
    assert.equal(await kv.create("size", sc.encode("L")), 2);
    await apiError(kv.update("color", sc.encode("blue"), 7));
    assert.equal(await kv.update("color", sc.encode("blue"), 1), 3);
    assert.equal(await kv.put("color", sc.encode("green")), 4);

    await kv.delete("size");
    const deleted = await kv.get("size");
    assert.equal(deleted.operation, "DEL");
    assert.equal(await kv.create("size", sc.encode("M")), 6);
    await kv.put("shape", sc.encode("round"));
    await kv.purge("shape");
    const purged = await kv.get("shape");
    assert.equal(purged.operation, "PURGE");

    const keys = (await all(await kv.keys(), "keys")).sort();
    assert.deepEqual(keys, ["color", "size"]);
    const history = await all(await kv.history({ key: "color" }), "history");
    assert.deepEqual(history.map((e) => sc.decode(e.value)), ["red", "blue", "green"]);
    assert.deepEqual(history.map((e) => e.revision), [1, 3, 4]);

    const status = await kv.status();
    assert.equal(status.bucket, "settings");
    assert.equal(status.history, 5);
    assert.equal(status.values, 7); // color 1,3,4; size 2,5,6; the purge marker of shape.
    const info = await jsm.streams.info("KV_settings");
    assert.equal(info.config.allow_rollup_hdrs, true);
    assert.equal(info.config.max_msgs_per_subject, 5);
  }));

test("interop (nats.js) kv: watch sends current values, then updates and deletes", () =>
  withJetStream(async ({ js }) => {
    const kv = await js.views.kv("watched");
    await kv.put("a", sc.encode("1"));
    await kv.put("b", sc.encode("2"));
    await kv.put("a", sc.encode("3"));
    const watch = await kv.watch();
    const initial = await take(watch, 2, "initial values");
    assert.deepEqual(initial.map((e) => [e.key, sc.decode(e.value)]), [["b", "2"], ["a", "3"]]);
    await kv.put("c", sc.encode("4"));
    await kv.delete("b");
    const updates = await take(watch, 2, "updates");
    assert.deepEqual(updates.map((e) => [e.key, e.operation]), [["c", "PUT"], ["b", "DEL"]]);
    watch.stop();

    const onlyA = await kv.watch({ key: "a" });
    const [aEntry] = await take(onlyA, 1, "watch a");
    assert.equal(sc.decode(aEntry.value), "3");
    await kv.put("c", sc.encode("ignored"));
    await kv.put("a", sc.encode("5"));
    const [aNext] = await take(onlyA, 1, "watch a update");
    assert.equal(sc.decode(aNext.value), "5");
    onlyA.stop();
  }));

test("interop (nats.js) os: put/get/info/list/delete a multi-chunk object", () =>
  withJetStream(async ({ js }) => {
    const os = await js.views.os("files");
    const data = new Uint8Array(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) % 251;
    const info = await os.putBlob({ name: "blob.bin", options: { max_chunk_size: 64 * 1024 } }, data);
    assert.equal(info.name, "blob.bin");
    assert.equal(info.size, data.length);
    assert.equal(info.chunks, 5);
    assert.ok(info.digest.startsWith("SHA-256="));
    await os.putBlob({ name: "small.txt" }, sc.encode("hello"));

    const back = await within(os.getBlob("blob.bin"), "getBlob");
    assert.equal(back.length, data.length);
    assert.ok(Buffer.from(back).equals(Buffer.from(data)));
    const result = await os.get("small.txt");
    const chunks = await all(result.data, "object data");
    assert.equal(Buffer.concat(chunks.map((c) => Buffer.from(c))).toString(), "hello");
    assert.equal((await within(result.error, "object read")) ?? null, null);

    const described = await os.info("blob.bin");
    assert.equal(described.size, data.length);
    assert.equal(described.digest, info.digest);
    const names = (await os.list()).map((o) => o.name).sort();
    assert.deepEqual(names, ["blob.bin", "small.txt"]);

    await os.delete("blob.bin");
    const gone = await os.info("blob.bin");
    assert.equal(gone.deleted, true);
    assert.equal(await os.getBlob("blob.bin"), null);
    const remaining = (await os.list()).map((o) => o.name);
    assert.deepEqual(remaining, ["small.txt"]);
    const status = await os.status();
    assert.equal(status.bucket, "files");
  }));

test("interop (nats.js) js: cluster-only requests fail with 10010 on a standalone server", () =>
  withJetStream(async ({ nc, jsm }) => {
    await jsm.streams.add({ name: "SOLO", subjects: ["solo.*"] });
    await jsm.consumers.add("SOLO", { durable_name: "C", ack_policy: AckPolicy.Explicit });
    const requests = [
      ["$JS.API.STREAM.LEADER.STEPDOWN.SOLO", "stream_leader_stepdown_response"],
      ["$JS.API.CONSUMER.LEADER.STEPDOWN.SOLO.C", "consumer_leader_stepdown_response"],
      ["$JS.API.STREAM.PEER.REMOVE.SOLO", "stream_remove_peer_response"],
    ];
    for (const [subject, type] of requests) {
      const reply = await nc.request(subject, sc.encode(""), { timeout: wait_ms });
      assert.deepEqual(JSON.parse(sc.decode(reply.data)), {
        type: `io.nats.jetstream.api.v1.${type}`,
        error: { code: 503, err_code: 10010, description: "JetStream clustering support required" },
      });
    }
  }));

test("interop (nats.js) js: ordered consumers recover when their consumer is deleted", () =>
  withJetStream(async ({ jsm, js }) => {
    // Goal: the server's side of nats.js's ordered-consumer reset. A pull ordered consumer gets
    // "409 Consumer Deleted" and makes a new consumer; a push one notices the missing idle
    // heartbeats (1 s here, reset after a few) and does the same. Either way no sequence is lost
    // or repeated. The recovery step is bounded by 3 * wait_ms.
    await jsm.streams.add({ name: "RESET", subjects: ["reset.*"] });
    for (let i = 1; i <= 10; i++) await js.publish("reset.a", sc.encode(`m${i}`));
    // Deletes the consumer of the running ordered subscription (the one with `deliver`: a
    // deliver_subject for push, none for pull; a stopped one may linger until inactive).
    const deleteCurrent = async (push) => {
      const consumers = await jsm.consumers.list("RESET").next();
      const current = consumers.filter((c) => Boolean(c.config.deliver_subject) === push);
      assert.equal(current.length, 1);
      await jsm.consumers.delete("RESET", current[0].name);
    };

    const ordered = await js.consumers.get("RESET");
    const messages = await ordered.consume({ idle_heartbeat: 1000, expires: 2000 });
    const first = await take(messages, 10, "ordered pull");
    await deleteCurrent(false);
    for (let i = 11; i <= 20; i++) await js.publish("reset.a", sc.encode(`m${i}`));
    const second = await take(messages, 10, "ordered pull after delete", 3 * wait_ms);
    assert.deepEqual([...first, ...second].map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    messages.stop();

    const opts = consumerOpts();
    opts.orderedConsumer();
    opts.idleHeartbeat(1000);
    const sub = await js.subscribe("reset.a", opts);
    const before = await take(sub, 20, "ordered push");
    await deleteCurrent(true);
    for (let i = 21; i <= 25; i++) await js.publish("reset.a", sc.encode(`m${i}`));
    const after = await take(sub, 5, "ordered push after delete", 3 * wait_ms);
    assert.deepEqual([...before, ...after].map((m) => m.seq), Array.from({ length: 25 }, (_, i) => i + 1));
    sub.unsubscribe();
  }));

// A server of our own (HERALD_SERVER_BINARY, set by run_js_interop.sh) with -js in dir, on port
// (-1: a free one), found through its ports file like run_js_interop.sh. Bounded: 10 s.
async function startServer(dir, port) {
  const binary = process.env.HERALD_SERVER_BINARY;
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", path.join(dir, "store"),
    "--ports_file_dir", dir];
  const log = fs.openSync(path.join(dir, "server.log"), "a");
  const child = child_process.spawn(binary, args, { stdio: ["ignore", log, log] });
  fs.closeSync(log);
  const portsFile = path.join(dir, `${path.basename(binary)}_${child.pid}.ports`);
  for (let step = 0; step < 1000; step++) {
    try {
      const found = JSON.parse(fs.readFileSync(portsFile, "utf8")).nats.find((u) => u.startsWith("nats://"));
      if (found) return { child, url: found, port: Number(new URL(found).port) };
    } catch (e) {
      // Not written yet, or half written.
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill("SIGKILL");
  throw new Error(`no ports file from ${binary}: ${fs.readFileSync(path.join(dir, "server.log"), "utf8")}`);
}

// SIGTERM, at most 5 s, then SIGKILL; resolves once the process is gone.
async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

test("interop (nats.js) js: KV values and a durable's position survive a server restart", {
  skip: !process.env.HERALD_SERVER_BINARY && "HERALD_SERVER_BINARY not set (run through run_js_interop.sh)",
}, async () => {
  // Goal: what nats.js reads back after the server restarts on the same port and the client
  // reconnects: the KV value and the durable's next message (acked ones are not redelivered).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "herald-js-restart-"));
  let server = await startServer(dir, -1);
  let nc;
  try {
    nc = await connect({ servers: server.url, timeout: wait_ms, reconnectTimeWait: 50, maxReconnectAttempts: 200 });
    const js = nc.jetstream({ timeout: wait_ms });
    const jsm = await nc.jetstreamManager({ timeout: wait_ms });
    const kv = await js.views.kv("kept");
    await kv.put("color", sc.encode("red"));
    await jsm.streams.add({ name: "KEEP", subjects: ["keep.*"] });
    for (let i = 1; i <= 5; i++) await js.publish("keep.a", sc.encode(`m${i}`));
    await jsm.consumers.add("KEEP", { durable_name: "D", ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get("KEEP", "D");
    for (let i = 1; i <= 3; i++) {
      const m = await consumer.next({ expires: 2000 });
      assert.equal(m.seq, i);
      assert.equal(await within(m.ackAck(), "ackAck"), true);
    }

    const reconnected = (async () => {
      for await (const s of nc.status()) if (s.type === "reconnect") return true;
      return false;
    })();
    await stopServer(server.child);
    server = await startServer(dir, server.port);
    assert.equal(await within(reconnected, "reconnect", 3 * wait_ms), true);

    const entry = await kv.get("color");
    assert.equal(sc.decode(entry.value), "red");
    assert.equal(entry.revision, 1);
    const after = await js.consumers.get("KEEP", "D");
    const next = await after.next({ expires: 2000 });
    assert.equal(next.seq, 4);
    assert.equal(next.info.redeliveryCount, 1);
    const info = await after.info();
    assert.equal(info.ack_floor.stream_seq, 3);
  } finally {
    if (nc) await nc.close();
    await stopServer(server.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
