import { run, compileGraph } from "conclave";
import { research } from "./graphs/research.ts";
const g = compileGraph(research);
for (const q of process.argv.slice(2)) {
  const r = await run(g, research.input(q));
  console.log(q, "\n  →", research.output(r.state).answer);
}
