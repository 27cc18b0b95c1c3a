/** Entry of the decision-log worker thread when the library runs from its sources (tsx, vitest). */
import { runDecisionLogWorker } from './worker';

void runDecisionLogWorker();
