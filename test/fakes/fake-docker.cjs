#!/usr/bin/env node
// A stand-in for `docker` in the procedure tests: the allow-listed commands run it with an argument
// vector (no shell), e.g. ["node", "fake-docker.cjs", "<state.json>", "restart", "trading-api"].
// State (containers, logs, what a restart clears in the simulator) lives in the JSON file.
'use strict';
const fs = require('node:fs');

async function main() {
  const [stateFile, cmd, ...args] = process.argv.slice(2);
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
  const c = (name) => {
    const found = state.containers[name];
    if (!found) {
      process.stderr.write(`Error: No such container: ${name}\n`);
      process.exit(1);
    }
    return found;
  };
  switch (cmd) {
    case 'ps':
      for (const [name, x] of Object.entries(state.containers)) {
        process.stdout.write(
          JSON.stringify({
            Names: name,
            State: x.state,
            Status: x.state === 'running' ? 'Up 2 hours' : 'Exited (137) 3 minutes ago',
          }) + '\n',
        );
      }
      return;
    case 'inspect': {
      const x = c(args[0]);
      process.stdout.write(
        JSON.stringify([
          {
            Name: `/${args[0]}`,
            State: {
              Status: x.state,
              Running: x.state === 'running',
              OOMKilled: !!x.oomKilled,
              StartedAt: x.startedAt,
            },
          },
        ]),
      );
      return;
    }
    case 'logs':
      process.stdout.write((c(args[0]).logs || []).join('\n') + '\n');
      return;
    case 'restart': {
      const name = args[0];
      const x = c(name);
      if (state.failRestart) {
        process.stderr.write('Error response from daemon: restart failed\n');
        process.exit(1);
      }
      x.state = 'running';
      x.oomKilled = false;
      x.startedAt = new Date().toISOString();
      x.logs = [];
      state.restarts = [...(state.restarts || []), name];
      // Restarting an application container closes its database connections (3.4 pool exhausted).
      const app = state.connectionsOnRestart && state.connectionsOnRestart[name];
      if (app) {
        const { Client } = require('pg');
        const db = new Client({ connectionString: app.databaseUrl });
        await db.connect();
        await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          app.applicationName,
        ]);
        await db.end();
      }
      const patch = state.onRestart && state.onRestart[name];
      if (patch && state.controlUrl) {
        const res = await fetch(`${state.controlUrl}/__sim/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(patch),
        });
        if (!res.ok) throw new Error(`simulator fault patch failed: ${res.status}`);
      }
      save();
      process.stdout.write(`${name}\n`);
      return;
    }
    default:
      process.stderr.write(`fake docker: unknown command ${cmd}\n`);
      process.exit(2);
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
