/** Writers for an eval run's `EvalReport`: a terminal table, JUnit XML for CI, and a self-contained HTML page. */
export { formatTable, type TableOptions } from "./table.ts";
export { toJUnitXml } from "./junit.ts";
export { toHtml } from "./html.ts";
