/**
 * The property test at the domain level: random valid pipelines (a seeded PRNG, so a failure names its
 * seed and replays) and random walks over them. Every generated pipeline is accepted by
 * validateDefinition; a walk only takes moves allowedTargets allows, those always name stages of the
 * definition, never leaves a terminal, never gets stuck at an open stage, and from every stage it visits
 * a won or lost stage is still reachable. Then each pipeline is broken in ways that must be refused
 * (an unreachable stage, a trap, a terminal given a move), and the refusal names the right stage.
 * (The integration half — every change once in history and once on Kafka — is test/deals*.integration.)
 */
import { FieldType, StageOutcome, type PipelineDefinition, type StageDefinition } from '@crm/contracts/crm/funnel/v1/pipelines';
import { allowedTargets, findStage, firstStage, outcomeOf } from './stages';
import { GUARD_FIELDS, normalizeDefinition, validateDefinition } from './validate';

/** mulberry32: small, fast, good enough to pick stages. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rnd: () => number, lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function shuffle<T>(rnd: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

const noGuard = () => ({ requiredFields: [] as string[], checklistComplete: false, questionnaireId: '' });

/**
 * A random valid pipeline: 1..30 open stages, 1..2 won and 0..2 lost ones. Open stage i (i > 0) is
 * entered from some earlier open stage and every terminal from some open stage, so all are reachable;
 * each open stage moves to a later open one or to a terminal, so a terminal is reachable from all of
 * them; extra random moves (backwards too:
 * cycles with a way out) up to 20 per stage. Board order shuffled after the first stage.
 */
function randomPipeline(rnd: () => number, id: number): PipelineDefinition {
  const openCount = int(rnd, 1, 30);
  const won = int(rnd, 1, 2);
  const lost = int(rnd, 0, 2);
  const open: StageDefinition[] = Array.from({ length: openCount }, (_, i) => ({
    key: `o${i}`,
    name: `Open ${i}`,
    outcome: StageOutcome.STAGE_OUTCOME_OPEN,
    to: [],
    guard: noGuard(),
    checklist: rnd() < 0.3 ? Array.from({ length: int(rnd, 1, 3) }, (_, k) => ({ key: `c${k}`, text: `Check ${k}` })) : [],
    probability: int(rnd, 0, 100),
  }));
  const terminals: StageDefinition[] = [
    ...Array.from({ length: won }, (_, i) => ({ key: `won${i}`, name: `Won ${i}`, outcome: StageOutcome.STAGE_OUTCOME_WON, to: [], guard: noGuard(), checklist: [], probability: 100 })),
    ...Array.from({ length: lost }, (_, i) => ({ key: `lost${i}`, name: `Lost ${i}`, outcome: StageOutcome.STAGE_OUTCOME_LOST, to: [], guard: noGuard(), checklist: [], probability: 0 })),
  ];
  const add = (s: StageDefinition, key: string) => {
    if (s.key !== key && !s.to.includes(key) && s.to.length < 20) s.to.push(key);
  };
  for (let i = 1; i < openCount; i++) add(open[int(rnd, 0, i - 1)]!, open[i]!.key);
  for (let i = 0; i < openCount; i++) {
    const later = open.slice(i + 1).map((s) => s.key);
    const forward = later.length && rnd() < 0.7 ? pick(rnd, later) : pick(rnd, terminals).key;
    // The forward move first, so the cap of 20 never drops it.
    open[i]!.to.unshift(forward);
    open[i]!.to = [...new Set(open[i]!.to)].slice(0, 20);
  }
  // Every terminal entered from some open stage (one with room), so all are reachable.
  for (const t of terminals) add(pick(rnd, open.filter((s) => s.to.length < 20)), t.key);
  const all = [...open, ...terminals];
  for (const s of open) for (let k = int(rnd, 0, 4); k > 0; k--) add(s, pick(rnd, all).key);
  const fields = rnd() < 0.5 ? [{ key: 'budget', label: 'Budget', type: FieldType.FIELD_TYPE_TEXT, options: [] }] : [];
  for (const s of all) if (rnd() < 0.2) s.guard!.requiredFields = [pick(rnd, [...GUARD_FIELDS, ...fields.map((f) => f.key)])];
  return {
    name: `Random ${id}`,
    stages: [open[0]!, ...shuffle(rnd, all.slice(1))],
    lostReasons: lost ? ['No budget', 'Competitor'] : rnd() < 0.5 ? ['Spare reason'] : [],
    fields,
    defaultCurrency: pick(rnd, ['RUB', 'USD', 'EUR', '']),
  };
}

/** Stages from which a won or lost stage can be reached (by moves backwards from the terminals). */
function canEnd(def: PipelineDefinition): Set<string> {
  const ok = new Set(def.stages.filter((s) => outcomeOf(s) !== 'open').map((s) => s.key));
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of def.stages) {
      if (!ok.has(s.key) && s.to.some((t) => ok.has(t))) {
        ok.add(s.key);
        grew = true;
      }
    }
  }
  return ok;
}

const SEEDS = Array.from({ length: 200 }, (_, i) => 20261201 + i * 7919);

describe('random valid pipelines and random walks over them', () => {
  it.each(SEEDS.map((s) => [s]))('seed %i: accepted, and walks stay inside the machine', (seed) => {
    const rnd = prng(seed);
    const def = normalizeDefinition(randomPipeline(rnd, seed));
    expect(validateDefinition(def)).toEqual([]);

    const keys = new Set(def.stages.map((s) => s.key));
    const ends = canEnd(def);
    // Plain checks collected (a million expect() calls would be slow); one expect at the end.
    const wrong: string[] = [];
    let finished = 0;
    for (let w = 0; w < 20 && wrong.length === 0; w++) {
      let at = firstStage(def).key;
      for (let step = 0; step < 300; step++) {
        const stage = findStage(def, at)!;
        const allowed = allowedTargets(def, at);
        if (!ends.has(at)) wrong.push(`walk ${w} step ${step}: no won or lost stage is reachable from ${at}`);
        if (outcomeOf(stage) !== 'open') {
          // A terminal: nothing is allowed out of it (reopening is its own call).
          if (allowed.length) wrong.push(`walk ${w}: terminal ${at} allows ${allowed.join(',')}`);
          finished++;
          break;
        }
        if (!allowed.length) wrong.push(`walk ${w} step ${step}: stuck at open stage ${at}`);
        for (const t of allowed) if (!keys.has(t)) wrong.push(`walk ${w}: ${at} allows unknown stage ${t}`);
        if (wrong.length) break;
        // Ask for a random stage; take it only when allowed (a refusal leaves the deal where it was).
        const wish = pick(rnd, def.stages).key;
        if (allowed.includes(wish)) at = wish;
        else if (rnd() < 0.5) at = pick(rnd, allowed);
      }
    }
    expect(wrong).toEqual([]);
    // Terminals are reachable from everywhere, so walks end within 300 steps.
    expect(finished).toBeGreaterThan(0);
  });

  it.each(SEEDS.slice(0, 60).map((s) => [s]))('seed %i: broken variants are refused at the right stage', (seed) => {
    const rnd = prng(seed);
    const def = normalizeDefinition(randomPipeline(rnd, seed));
    const n = def.stages.length;
    const terminal = def.stages.find((s) => outcomeOf(s) !== 'open')!;
    const open = def.stages.filter((s) => outcomeOf(s) === 'open' && s.to.length < 20);
    const codesAt = (d: PipelineDefinition) => validateDefinition(d).map((v) => `${v.field} ${v.code}`);

    // A stage nothing leads to.
    const island = structuredClone(def);
    island.stages.push({ ...structuredClone(terminal), key: 'island', name: 'Island', outcome: StageOutcome.STAGE_OUTCOME_OPEN, to: [terminal.key] });
    expect(codesAt(island)).toEqual([`stages[${n}] unreachable`]);

    // Two stages that only lead to each other, entered from a reachable open stage.
    if (open.length) {
      const trap = structuredClone(def);
      const doorKey = pick(rnd, open).key;
      const door = trap.stages.find((s) => s.key === doorKey)!;
      door.to.push('trap_a');
      trap.stages.push(
        { ...structuredClone(terminal), key: 'trap_a', name: 'Trap A', outcome: StageOutcome.STAGE_OUTCOME_OPEN, to: ['trap_b'] },
        { ...structuredClone(terminal), key: 'trap_b', name: 'Trap B', outcome: StageOutcome.STAGE_OUTCOME_OPEN, to: ['trap_a'] },
      );
      expect(codesAt(trap)).toEqual([`stages[${n}] trap_cycle`]);
    }

    // A terminal given a move back to the first stage (reachable without it): a terminal with moves.
    const leaky = structuredClone(def);
    const t = leaky.stages.findIndex((s) => s.key === terminal.key);
    leaky.stages[t]!.to = [leaky.stages[0]!.key];
    expect(codesAt(leaky)).toEqual([`stages[${t}].to terminal_has_transitions`]);
  });
});
