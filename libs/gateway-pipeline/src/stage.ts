import type { Route, StageId } from '@cloud-stack/gateway-routing';
import type { GatewayContext } from './context';

/** One stage's work for one route; throws an HttpProblem to refuse the request. */
export type StageRun = (ctx: GatewayContext) => void | Promise<void>;

/**
 * A pipeline stage (Oathkeeper's authenticator/authorizer/mutator in one shape). `build` runs once
 * per route when the route table loads, so a request only walks closures that have work to do;
 * it returns undefined when the route needs nothing from this stage.
 */
export interface Stage {
  readonly id: StageId;
  build(route: Route): StageRun | undefined;
}

/** The route's stages in pipeline order, built once: only the ones it lists and that have work. */
export function buildStageRuns(route: Route, stages: readonly Stage[]): StageRun[] {
  const runs: StageRun[] = [];
  for (const stage of stages) {
    if (!route.stages.includes(stage.id)) continue;
    const run = stage.build(route);
    if (run) runs.push(run);
  }
  return runs;
}

/** Runs stages in order; the first that throws ends the pipeline. Synchronous stages cost no await. */
export async function runStages(runs: readonly StageRun[], ctx: GatewayContext): Promise<void> {
  for (const run of runs) {
    const pending = run(ctx);
    if (pending) await pending;
  }
}
