import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations, splitStatements } from './migrate';

describe('splitStatements', () => {
  it('drops comment lines and splits on a ; at the end of a line', () => {
    const text = '-- header; with a semicolon\nCREATE TABLE a (x String)\nENGINE = Memory;\n\n  -- between\nCREATE TABLE b (y String) ENGINE = Memory;  \r\nSELECT 1';
    expect(splitStatements(text)).toEqual(['CREATE TABLE a (x String)\nENGINE = Memory', 'CREATE TABLE b (y String) ENGINE = Memory', 'SELECT 1']);
  });

  it('keeps a ; inside a line', () => {
    expect(splitStatements("SELECT ';' AS s;\n")).toEqual(["SELECT ';' AS s"]);
  });
});

describe('loadMigrations', () => {
  it('reads the service migrations in order', () => {
    const ms = loadMigrations();
    expect(ms.map((m) => [m.version, m.name])).toEqual([
      [1, '0001_requests'],
      [2, '0002_request_comments'],
    ]);
    expect(ms[0].statements).toHaveLength(1);
    expect(ms[0].statements[0]).toMatch(/^CREATE TABLE IF NOT EXISTS requests/);
    // Every statement is idempotent: a half-applied file is re-run as a whole.
    for (const m of ms) for (const s of m.statements) expect(s).toMatch(/IF NOT EXISTS/);
  });

  it('refuses badly named files and repeated numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(dir, '0001_a.sql'), 'SELECT 1;');
    writeFileSync(join(dir, '0001_b.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow(/used twice/);
    const bad = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(bad, '1_a.sql'), 'SELECT 1;');
    expect(() => loadMigrations(bad)).toThrow(/NNNN_name/);
    const empty = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(empty, '0001_a.sql'), '-- nothing\n');
    expect(() => loadMigrations(empty)).toThrow(/no statement/);
  });
});
