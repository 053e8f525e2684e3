// A deliberately misbehaving MCP server (stdio, newline-delimited JSON-RPC) for tend's tests.
//
//   node server.cjs MODE [PIDFILE]
//
// MODE:
//   crash  `boom` writes a line to stderr and exits with code 3 in the middle of the call
//   hang   `wait` is never answered, and neither is `ping`
//   slow   `slow` answers after 3 s; pings are answered at once
//   spawn  starts `sleep 300` (same process group) and writes its pid to PIDFILE; `echo` works
//   nohello  never answers `initialize`
"use strict";

const mode = process.argv[2] || "crash";
const pidfile = process.argv[3];

if (mode === "spawn") {
  const { spawn } = require("child_process");
  const child = spawn("sleep", ["300"], { stdio: "ignore" });
  require("fs").writeFileSync(pidfile, String(child.pid));
}

const tools = {
  crash: [{ name: "boom", description: "Exits mid-call.", inputSchema: { type: "object" } }],
  hang: [{ name: "wait", description: "Never answers.", inputSchema: { type: "object" } }],
  slow: [{ name: "slow", description: "Answers after 3 s.", inputSchema: { type: "object" } }],
  spawn: [
    {
      name: "echo",
      description: "Echoes `message`.",
      inputSchema: { type: "object", properties: { message: { type: "string" } } },
    },
  ],
  nohello: [],
};

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function answer(id, result) {
  send({ jsonrpc: "2.0", id, result });
}

function handle(msg) {
  if (msg.id === undefined) return; // notifications
  switch (msg.method) {
    case "initialize":
      if (mode === "nohello") return;
      answer(msg.id, {
        protocolVersion: msg.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: "fake-" + mode, version: "0.0.1" },
      });
      return;
    case "ping":
      if (mode === "hang") return;
      answer(msg.id, {});
      return;
    case "tools/list":
      answer(msg.id, { tools: tools[mode] || [] });
      return;
    case "tools/call":
      if (mode === "crash") {
        process.stderr.write("fake server: giving up in the middle of " + msg.params.name + "\n");
        process.exit(3);
      }
      if (mode === "hang") return;
      if (mode === "slow") {
        setTimeout(() => answer(msg.id, { content: [{ type: "text", text: "finally" }] }), 3000);
        return;
      }
      answer(msg.id, {
        content: [{ type: "text", text: String((msg.params.arguments || {}).message) }],
      });
      return;
    default:
      send({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "no such method" } });
  }
}

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (line) handle(JSON.parse(line));
  }
});
process.stdin.on("end", () => process.exit(0));
