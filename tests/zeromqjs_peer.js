// A zeromq.js (6.8, libzmq with the draft API) peer for tests/test_interop_zeromqjs.py.
//
//   node zeromqjs_peer.js ZEROMQ_DIR '{"role": ..., "endpoint": ..., "bind": bool, ...}'
//
// Prints "ready" once bound/connected, then one JSON line with what it received, and
// exits 0; any failure exits 1 with the error on stderr. Every wait is bounded.
"use strict";

const path = require("path");
const [zdir, cfgText] = process.argv.slice(2);
const zmq = require(path.join(zdir, "draft"));
const native = require(path.join(zdir, "lib", "native"));
const cfg = JSON.parse(cfgText);
const n = cfg.count || 10;
const deadline = Date.now() + (cfg.timeout_ms || 8000);

async function open(sock) {
  if (cfg.role !== "radio" && cfg.role !== "scatter") sock.receiveTimeout = 200;
  sock.linger = 0;
  if (cfg.ipv6) sock.ipv6 = true;
  if (cfg.bind) await sock.bind(cfg.endpoint);
  else sock.connect(cfg.endpoint);
  process.stdout.write("ready\n");
}

async function receive(sock) {
  // a bounded receive: null once the whole test deadline has passed
  while (Date.now() < deadline) {
    try {
      return await sock.receive();
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
  return null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const roles = {
  // SERVER: echo n messages back to their routing ids, report what came in
  async server() {
    const s = new zmq.Server();
    await open(s);
    const got = [];
    while (got.length < n) {
      const r = await receive(s);
      if (r === null) break;
      const [msg, opts] = r;
      got.push({ body: msg.toString(), routing_id: opts.routingId });
      await s.send("echo:" + msg.toString(), { routingId: opts.routingId });
    }
    await sleep(200); // let the answers leave
    s.close();
    return got;
  },
  // CLIENT: send n messages, collect the n answers
  async client() {
    const s = new zmq.Client();
    await open(s);
    for (let i = 0; i < n; i++) await s.send("js-" + i);
    const got = [];
    while (got.length < n) {
      const r = await receive(s);
      if (r === null) break;
      got.push(r[0].toString());
    }
    s.close();
    return got;
  },
  // RADIO: send on groups "g" and "other" until told the peer is satisfied (a line on
  // stdin) or the deadline
  async radio() {
    const s = new zmq.Radio();
    await open(s);
    let stop = false;
    process.stdin.on("data", () => (stop = true));
    let i = 0;
    while (!stop && Date.now() < deadline) {
      await s.send("other-" + i, { group: "other" });
      await s.send("js-" + i, { group: "g" });
      i++;
      await sleep(5);
    }
    s.close();
    process.stdin.destroy();
    return i;
  },
  // DISH: join "g", receive n messages (body and group)
  async dish() {
    const s = new zmq.Dish();
    native.Socket.prototype.join.call(s, "g"); // (zeromq.js's Dish.join loses `this`)
    await open(s);
    const got = [];
    while (got.length < n) {
      const r = await receive(s);
      if (r === null) break;
      got.push({ body: r[0].toString(), group: r[1].group.toString() });
    }
    s.close();
    return got;
  },
  async scatter() {
    const s = new zmq.Scatter();
    await open(s);
    for (let i = 0; i < n; i++) await s.send("js-" + i);
    await sleep(300);
    s.close();
    return n;
  },
  async gather() {
    const s = new zmq.Gather();
    await open(s);
    const got = [];
    while (got.length < n) {
      const r = await receive(s);
      if (r === null) break;
      got.push(r[0].toString());
    }
    s.close();
    return got;
  },
  // DGRAM: bound; answer each [address, body] with [address, "echo:" + body]
  async dgram() {
    const s = new zmq.Datagram();
    await open(s);
    const got = [];
    while (got.length < n) {
      const r = await receive(s);
      if (r === null) break;
      got.push({ address: r[0].toString(), body: r[1].toString() });
      await s.send([r[0], "echo:" + r[1].toString()]);
    }
    await sleep(100);
    s.close();
    return got;
  },
};

roles[cfg.role]()
  .then((result) => {
    process.stdout.write(JSON.stringify({ result }) + "\n");
    process.exit(0);
  })
  .catch((e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
    process.exit(1);
  });
