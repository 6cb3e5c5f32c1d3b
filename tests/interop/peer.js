'use strict';

// One Node.js PIGATO 0.0.46 peer, driven by tests/Pigato.Interop.Tests through stdin/stdout JSON lines.
//   node peer.js broker <endpoint> <intch>
//   node peer.js worker <endpoint> <service> [mixed|reject|silent] [concurrency]
//   node peer.js client <endpoint>
//   node peer.js directory-test <endpoint> <intch>   PIGATO's own test/directory.js, its two cases, against that broker
// Each prints {"event":"ready",...} once usable; "stop" on stdin stops it cleanly and exits.

// pigato 0.0.46 calls lodash 3's _.pluck, which its lodash 4 dependency removed (INTEROP-NOTES.md).
const lodash = require(require.resolve('lodash', { paths: [require.resolve('pigato')] }));
lodash.pluck = lodash.pluck || lodash.map;

const PIGATO = require('pigato');
const readline = require('readline');

const [role, endpoint, ...rest] = process.argv.slice(2);
const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n');
const commands = readline.createInterface({ input: process.stdin });
let stop = () => process.exit(0);

commands.on('line', (line) => {
  if (line.trim() === 'stop') {
    stop();
  } else if (line.trim()) {
    onCommand(JSON.parse(line));
  }
});
commands.on('close', () => stop());
process.on('uncaughtException', (err) => {
  emit({ event: 'uncaught', error: String(err && err.stack || err) });
});

let onCommand = () => {};

if (role === 'broker') {
  const broker = new PIGATO.Broker(endpoint, { intch: rest[0] });
  broker.on('error', (err) => emit({ event: 'error', error: String(err) }));
  broker.on('start', () => emit({ event: 'ready' }));
  broker.start();
  stop = () => {
    broker.stop();
    setTimeout(() => process.exit(0), 50);
  };
} else if (role === 'worker') {
  const [service, mode = 'mixed', concurrency = '100'] = rest;
  const worker = new PIGATO.Worker(endpoint, service, { concurrency: Number(concurrency) });
  worker.on('error', (err) => emit({ event: 'error', error: String(err) }));
  worker.on('connect', () => emit({ event: 'ready', id: worker.socketId }));
  worker.on('request', (data, reply, opts) => {
    emit({ event: 'request', service: service, data: data === undefined ? null : data });
    if (mode === 'reject') {
      return reply.reject('busy');
    }
    if (mode === 'silent') {
      return;
    }
    const op = data && typeof data === 'object' ? data.op : undefined;
    if (op === 'partials') {
      reply.write('p1');
      reply.write('p2');
      reply.write('p3');
      return reply.end('final');
    }
    if (op === 'error') {
      return reply.error(data.value === undefined ? 'E_NODE' : data.value);
    }
    if (op === 'options') {
      return reply.end(opts);
    }
    if (op === 'whoami') {
      return reply.end(worker.socketId);
    }
    reply.end(data);
  });
  worker.start();
  stop = () => {
    // A fast broker's DISCONNECT answer would make PIGATO restart the worker: stop listening first.
    worker.socket && worker.socket.removeAllListeners('message');
    worker.stop();
    setTimeout(() => process.exit(0), 50);
  };
} else if (role === 'client') {
  const client = new PIGATO.Client(endpoint, { heartbeat: 500 });
  client.on('error', (err) => emit({ event: 'error', error: String(err) }));
  client.start();
  client.on('connect', () => emit({ event: 'ready' }));
  // Whatever happens first: the broker's heartbeat answer, or a second to notice nothing answers.
  stop = () => {
    client.stop();
    setTimeout(() => process.exit(0), 50);
  };
  onCommand = (command) => {
    const { id, service, data, opts = {}, mode = 'stream', bulk, flood } = command;
    if (flood) {
      // Benchmark load: `flood` requests with `window` in flight, payload of `size` bytes; latencies in µs.
      const window = Math.min(command.window || 1, flood);
      const payload = 'x'.repeat(command.size || 3);
      const latencies = [];
      const started = process.hrtime.bigint();
      let sent = 0;
      const one = () => {
        if (sent >= flood) {
          return;
        }
        sent++;
        const t = process.hrtime.bigint();
        client.request(service, payload, undefined, () => {
          latencies.push(Number(process.hrtime.bigint() - t) / 1000);
          if (latencies.length === flood) {
            latencies.sort((a, b) => a - b);
            emit({
              id, requests: flood, seconds: Number(process.hrtime.bigint() - started) / 1e9,
              p50Us: latencies[Math.floor(flood / 2)], p99Us: latencies[Math.floor(flood * 0.99)], maxUs: latencies[flood - 1],
            });
          } else {
            one();
          }
        }, { timeout: 120000 });
      };
      for (let i = 0; i < window; i++) {
        one();
      }
      return;
    }
    if (bulk) {
      let ok = 0;
      let failed = 0;
      for (let i = 0; i < bulk; i++) {
        client.request(service, i, undefined, (err, value) => {
          if (err || value !== i) {
            failed++;
          } else {
            ok++;
          }
          if (ok + failed === bulk) {
            emit({ id, ok, failed });
          }
        }, opts);
      }
      return;
    }
    const partials = [];
    if (mode === 'callback') {
      client.request(service, data, (err, value) => partials.push(value), (err, value) => {
        emit({ id, partials, final: value === undefined ? null : value, error: err || null });
      }, opts);
      return;
    }
    const stream = client.request(service, data, opts);
    let error = null;
    stream.on('data', (value) => partials.push(value));
    stream.on('error', (err) => { error = err; });
    stream.on('end', () => {
      const final = partials.length > 0 ? partials.pop() : null;
      emit({ id, partials, final: final === undefined ? null : final, error });
    });
  };
} else if (role === 'directory-test') {
  // The two cases of pigato/test/directory.js with their timings (100 ms, 10 ms), run against the broker at <endpoint>
  // instead of a Node.js broker of their own; PIGATO's Directory service follows that broker's <intch>. One
  // {"event":"result","name":...,"error":null|"..."} per case, then {"event":"done"}.
  const assert = require('assert');
  const { randomUUID } = require('crypto');
  const ds = new PIGATO.services.Directory(endpoint, { intch: rest[0] });
  // The original asks 10 ms after spawning its six workers, on inproc; over TCP the workers' connections take longer than
  // that to be accepted by a NetMQ broker (measured: usually not all six within 10 ms, on 2 cores): [delay] sets it.
  const allWorkersDelay = Number(rest[1] || 10);
  const sorted = (list) => list.slice().sort((a, b) => (a < b ? -1 : 1));
  const run = (name, ask, delay, check) => new Promise((resolve) => {
    const nsGood = randomUUID();
    const nsBad = randomUUID();
    const client = new PIGATO.Client(endpoint);
    const workers = [];
    const spawn = (ns) => {
      const worker = new PIGATO.Worker(endpoint, ns);
      worker.on('request', (inp, rep) => rep.end(worker.socketId));
      worker.start();
      workers.push(worker);
      return worker;
    };
    client.start();
    const good = [];
    for (let i = 0; i < 3; i++) {
      good.push(spawn(nsGood));
      spawn(nsBad);
    }
    const finish = (error) => {
      workers.forEach((worker) => {
        worker.socket && worker.socket.removeAllListeners('message');
        worker.stop();
      });
      client.stop();
      emit({ event: 'result', name, error: error ? String(error && error.stack || error) : null });
      resolve();
    };
    // Asked after the original's delay, then again every 100 ms (at most 50 times) until the answer passes: on a busy
    // machine six workers' registrations and the broker's PUB -> the Directory's SUB hop can take longer than that delay.
    const attempt = (left) => {
      let error = null;
      client.request('$dir', ask(nsGood))
        .on('data', (data) => {
          try {
            check(data, nsGood, nsBad, sorted(good.map((w) => w.socketId)));
          } catch (e) {
            error = e;
          }
        })
        .on('error', (err) => { error = error || err; })
        .on('end', () => (error && left > 0 ? setTimeout(() => attempt(left - 1), 100) : finish(error)));
    };
    setTimeout(() => attempt(50), delay);
  });
  ds.conf.onStart = async () => {
    emit({ event: 'ready' });
    await run('Respond with worker handling this serviceName', (ns) => ns, 100, (data, nsGood, nsBad, ids) => {
      assert.ok(Array.isArray(data), 'an array');
      assert.deepStrictEqual(sorted(data), ids);
    });
    await run('Respond with all workers', () => undefined, allWorkersDelay, (data, nsGood, nsBad) => {
      assert.ok(data && typeof data === 'object' && !Array.isArray(data), 'an object');
      assert.strictEqual(data[nsGood].length, 3, 'three good workers');
      assert.strictEqual(data[nsBad].length, 3, 'three bad workers');
      assert.ok(Object.keys(data).length > 2, 'more than two services');
      assert.strictEqual(data['$dir'].length, 1, 'one $dir worker');
      assert.ok(data['$dir'][0].includes(ds.wrk.conf.prefix), 'the directory service listed');
    });
    emit({ event: 'done' });
  };
  ds.start();
  stop = () => {
    ds.stop();
    setTimeout(() => process.exit(0), 50);
  };
} else {
  process.stderr.write('usage: node peer.js broker|worker|client|directory-test <endpoint> ...\n');
  process.exit(2);
}
