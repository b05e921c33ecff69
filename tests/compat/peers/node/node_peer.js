// Drive npm node-nut (ioBroker / homebridge client) against a upsd and report what it saw.
//
// usage: node node_peer.js HOST PORT
//
// Prints one JSON object per line: {"step": NAME, "ok": RESULT} or {"step": NAME, "err": TEXT}.
// Judging is left to the Rust test (tests/compat/tests/real_scripted.rs), which owns the fixture.
'use strict';

const Nut = require('node-nut');

const [host, port] = process.argv.slice(2);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// node-nut calls an error callback twice (once with the error, once with null): keep only the first.
function once(fn) {
  let called = false;
  return (...args) => {
    if (!called) {
      called = true;
      fn(...args);
    }
  };
}

// Wrap a node-nut call whose callback is (value, err) or (err) into a promise of a report line.
function call(nut, method, args, shape) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ err: 'TIMEOUT (no callback within 5 s)' }), 5000);
    const done = once((...cb) => {
      clearTimeout(timer);
      resolve(shape(...cb));
    });
    nut[method](...args, done);
  });
}

// Lists are returned as sparse arrays with string keys; turn them into plain objects.
const toObject = (v) => (v === null || v === undefined ? v : Object.assign({}, v));
const valueErr = (v, err) => (err ? { err } : { ok: Array.isArray(v) && Object.keys(v).some((k) => isNaN(k)) ? toObject(v) : v });
const errOnly = (err) => (err ? { err } : { ok: null });
const raw = (data) => ({ ok: data });

async function run(nut) {
  const steps = [
    ['ver', 'ver', [], raw],
    ['netver', 'netVer', [], raw],
    ['list_ups', 'GetUPSList', [], valueErr],
    ['list_vars', 'GetUPSVars', ['dummy'], valueErr],
    ['list_cmds', 'GetUPSCommands', ['dummy'], valueErr],
    ['list_rw', 'GetRWVars', ['dummy'], valueErr],
    ['type_ups_id', 'GetVarType', ['dummy', 'ups.id'], valueErr],
    ['type_charge', 'GetVarType', ['dummy', 'battery.charge'], valueErr],
    ['desc_status', 'GetVarDescription', ['dummy', 'ups.status'], valueErr],
    ['cmddesc_load_off', 'GetCommandDescription', ['dummy', 'load.off'], valueErr],
    ['enum_status', 'GetEnumsForVar', ['dummy', 'ups.status'], valueErr],
    ['range_status', 'GetRangesForVar', ['dummy', 'ups.status'], valueErr],
    ['list_vars_unknown', 'GetUPSVars', ['nosuch'], valueErr],
    ['instcmd_anon', 'RunUPSCommand', ['dummy', 'load.off'], errOnly],
    ['username', 'SetUsername', ['admin'], errOnly],
    ['password', 'SetPassword', ['adminpass'], errOnly],
    ['set_ups_id', 'SetRWVar', ['dummy', 'ups.id', 'nodeval'], errOnly],
    ['instcmd_admin', 'RunUPSCommand', ['dummy', 'load.off'], errOnly],
    ['instcmd_unknown', 'RunUPSCommand', ['dummy', 'no.such.cmd'], errOnly],
    ['master', 'Master', ['UPS1'], errOnly],
    ['fsd', 'FSD', ['UPS1'], errOnly],
    ['list_vars_ups1', 'GetUPSVars', ['UPS1'], valueErr],
  ];
  for (const [name, method, args, shape] of steps) {
    emit({ step: name, ...(await call(nut, method, args, shape)) });
  }
}

const nut = new Nut(Number(port), host);
nut.on('error', (e) => {
  emit({ step: 'socket-error', err: String(e) });
  process.exit(2);
});
nut.on('ready', () => {
  run(nut).then(
    () => {
      emit({ step: 'done', ok: true });
      nut.close();
    },
    (e) => {
      emit({ step: 'crash', err: String(e && e.stack ? e.stack : e) });
      process.exit(3);
    },
  );
});
nut.start();
