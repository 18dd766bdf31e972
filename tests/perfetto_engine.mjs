// Perfetto's trace processor as the Perfetto UI runs it: the UI's engine worker
// (engine_bundle.js) with trace_processor.wasm, here in a V8 context of Node made to look like
// a web worker. stdin carries TraceProcessorRpcStream requests, stdout the engine's replies,
// byte for byte as the UI's MessagePort would.
//
// usage: node perfetto_engine.mjs DIR   (DIR holds engine_bundle.js and trace_processor.wasm)
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";

const dir = process.argv[2];
const read = (url) => fs.readFileSync(path.join(dir, path.basename(String(url))));
const toStderr = (...args) => console.error(...args);

let started;
const ready = new Promise((resolve) => {
  started = resolve;
});

// Only what a worker has. No `process`: the engine was built for the web and refuses Node.
const worker = {
  console: { log: toStderr, info: toStderr, warn: toStderr, error: toStderr, debug: toStderr },
  performance,
  crypto: globalThis.crypto,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  queueMicrotask,
  URL,
  TextDecoder,
  TextEncoder,
  WorkerGlobalScope: function WorkerGlobalScope() {},
  importScripts: () => {},
  location: { href: `file://${dir}/engine_bundle.js`, protocol: "file:", host: "" },
  // A worker reads the .wasm with a synchronous request; answer it from DIR.
  XMLHttpRequest: class {
    open(method, url) {
      this.url = url;
    }
    send() {
      this.response = new Uint8Array(read(this.url)).buffer;
      this.status = 200;
    }
  },
};
worker.self = worker;
const context = vm.createContext(worker);

// The engine is ready once trace_processor_rpc_init has returned the request buffer: wrap the
// instance's exports to see that call, and start forwarding requests only then.
const wasm = vm.runInContext("WebAssembly", context);
wasm.Instance = new Proxy(wasm.Instance, {
  construct(Instance, args) {
    const exports = { ...new Instance(...args).exports };
    const init = exports.trace_processor_rpc_init;
    exports.trace_processor_rpc_init = (...a) => {
      const buffer = init(...a);
      setImmediate(started);
      return buffer;
    };
    return { exports };
  },
});

vm.runInContext(fs.readFileSync(path.join(dir, "engine_bundle.js"), "utf8"), context);
const Bytes = vm.runInContext("Uint8Array", context);
const port = {
  onmessage: null,
  postMessage(data) {
    process.stdout.write(Buffer.from(data));
  },
};
worker.onmessage({ data: port });

let queue = ready;
process.stdin.on("data", (chunk) => {
  queue = queue.then(() => port.onmessage({ data: new Bytes(chunk) }));
});
process.stdin.on("end", () => queue.then(() => process.exit(0)));
