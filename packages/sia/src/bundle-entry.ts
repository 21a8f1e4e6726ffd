/** The entry of the single-file bundle (dist/siad.mjs). */
import { runProcess } from './main.ts';

await runProcess();
