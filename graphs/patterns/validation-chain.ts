import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError, DeadLetterQueue, compileGraph, createRequestBatcher, createValidationChain, defineGraph } from "conclave";
import type { GraphBuildContext, ValidationResult } from "conclave";

/** An invoice as the payables team accepts it. */
export const InvoiceSchema = z.object({
  id: z.string().regex(/^INV-\d{4}$/, "use the form INV-1234"),
  vendorId: z.string().regex(/^VND-\d{3}$/, "use the form VND-123"),
  vendor: z.string().min(1),
  amount: z.number().positive(),
  currency: z.enum(["EUR", "USD", "GBP"]),
  date: z.iso.date(),
  description: z.string().min(5),
  purchaseOrder: z.string().regex(/^PO-\d{4}$/, "use the form PO-1234").optional(),
});
export type Invoice = z.infer<typeof InvoiceSchema>;

/** A vendor as the registry knows it. */
export interface Vendor {
  id: string;
  name: string;
  status: "active" | "suspended";
}

const FISCAL_YEAR = 2025;
/** Above this an invoice needs a purchase order. */
const PURCHASE_ORDER_LIMIT = 25_000;
/** From this amount a person signs off, when the run asks for approvals (`--approve-answer`). */
const APPROVAL_FROM = 10_000;

const EMAIL = /[\w.+-]+@[\w-]+\.[\w.]+/;
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b/;
const VAGUE = /^(?:misc(?:ellaneous)?|various|tbd|n\/?a|services?|see attached)\.?$/i;

/** The sample registry: in production a vendor-master API that answers many ids in one request. */
function sampleRegistry(): (ids: string[]) => Array<Vendor | null> {
  const vendors = JSON.parse(readFileSync(new URL("./samples/governance-vendors.json", import.meta.url), "utf8")) as Vendor[];
  return (ids) => ids.map((id) => vendors.find((vendor) => vendor.id === id) ?? null);
}

export interface InvoiceChainOptions {
  /** Where rejected invoices go (opened on the first rejection). */
  deadLetters?: () => DeadLetterQueue;
  /** Ask a person to sign off invoices from 10,000. */
  approvals?: boolean;
  /** Looks up many vendors at once (default: the sample registry). */
  lookupVendors?: (ids: string[]) => Array<Vendor | null> | Promise<Array<Vendor | null>>;
}

/**
 * Schema → content checks → business rules → (approval): the payables team's intake. The vendor
 * rule runs once per invoice, in parallel; a request batcher turns those lookups into one registry call.
 */
export function createInvoiceChain(options: InvoiceChainOptions = {}) {
  const registry = createRequestBatcher({ maxBatch: 50, maxWaitMs: 25, call: options.lookupVendors ?? sampleRegistry() });
  return createValidationChain({
    name: "validation-chain",
    schema: InvoiceSchema,
    content: [
      { name: "no-personal-data", check: (invoice) => [EMAIL.test(invoice.description) ? "the description holds an e-mail address" : "", IBAN.test(invoice.description) ? "the description holds a bank account number (IBAN)" : ""].filter(Boolean) },
      { name: "specific-description", check: (invoice) => (VAGUE.test(invoice.description.trim()) ? `"${invoice.description}" does not say what was bought` : undefined) },
    ],
    rules: [
      {
        name: "vendor-registered",
        check: async (invoice) => {
          const vendor = await registry.request(invoice.vendorId);
          if (!vendor) return `vendor ${invoice.vendorId} is not in the vendor registry`;
          if (vendor.status !== "active") return `vendor ${invoice.vendorId} (${vendor.name}) is ${vendor.status}`;
          return vendor.name === invoice.vendor ? undefined : `vendor ${invoice.vendorId} is registered as "${vendor.name}", not "${invoice.vendor}"`;
        },
      },
      { name: "fiscal-year", check: (invoice) => (invoice.date.startsWith(`${FISCAL_YEAR}-`) ? undefined : `dated ${invoice.date}, outside fiscal year ${FISCAL_YEAR}`) },
      { name: "purchase-order", check: (invoice) => (invoice.amount > PURCHASE_ORDER_LIMIT && !invoice.purchaseOrder ? `${invoice.amount} ${invoice.currency} is over ${PURCHASE_ORDER_LIMIT} and needs a purchase order` : undefined) },
    ],
    ...(options.approvals ? { approval: (invoice: Invoice) => invoice.amount >= APPROVAL_FROM } : {}),
    summarize: (invoice) => `pay ${invoice.id}: ${invoice.amount} ${invoice.currency} to ${invoice.vendor} for "${invoice.description}"`,
    ...(options.deadLetters ? { deadLetters: options.deadLetters } : {}),
  });
}

function describe(result: ValidationResult): string {
  const invoice = (result.value ?? result.input) as Partial<Invoice> | undefined;
  const label = `${invoice?.id ?? `item ${result.index + 1}`}${invoice?.vendor ? ` (${invoice.vendor}` : ""}${typeof invoice?.amount === "number" ? `, ${invoice.amount} ${invoice.currency ?? ""}`.trimEnd() : ""}${invoice?.vendor ? ")" : ""}`;
  if (result.status === "accepted") return `accepted  ${label}${result.approvedBy ? `, approved by ${result.approvedBy}` : ""}`;
  return `rejected  ${label} at ${result.stage}: ${result.reasons.join("; ")}`;
}

function parseInvoices(task: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(task);
  } catch (error) {
    throw new ConfigError(`The validation-chain example takes a JSON array of invoices as its task: ${(error as Error).message}. See graphs/patterns/samples/governance-invoices.json.`);
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** `conclave run --graph validation-chain` validates the sample invoices; `--approve-answer` asks for sign-off from 10,000. */
export const example = defineGraph({
  name: "validation-chain",
  description: "Validation chain: invoices pass schema → content checks → business rules (→ approval with --approve-answer); each rejection names its stage and reasons and goes to the dead-letter queue",
  sample: readFileSync(new URL("./samples/governance-invoices.json", import.meta.url), "utf8"),
  build: (context: GraphBuildContext) =>
    createInvoiceChain({
      approvals: context.options?.approveAnswer === true,
      // `conclave dlq list` shows what was rejected; the file opens only when something is.
      deadLetters: () => new DeadLetterQueue({ path: resolve(context.cwd, context.config.stateDir, "dlq.sqlite") }),
    }),
  input: (task) => ({ items: parseInvoices(task) }),
  output: (state) => {
    const accepted = state.results.filter((result) => result.status === "accepted");
    const rejected = state.results.filter((result) => result.status === "rejected");
    const byStage = Object.fromEntries(["schema", "content", "rules", "approval"].map((stage) => [stage, rejected.filter((result) => result.stage === stage).length]));
    return {
      answer: [`${state.results.length} invoices: ${accepted.length} accepted, ${rejected.length} rejected.`, ...state.results.map(describe), ...(rejected.some((result) => result.deadLetterId) ? ["Rejected invoices are in the dead-letter queue: conclave dlq list"] : [])].join("\n"),
      citations: [],
      details: { accepted: accepted.length, rejected: rejected.length, rejectedByStage: byStage, deadLetters: rejected.flatMap((result) => (result.deadLetterId ? [result.deadLetterId] : [])) },
    };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
