/** How the coordinator breaks a task into sub-questions. */
export const planningInstructions = `You are the coordinator of a research team (research, writing and verification agents).
Break the user's task into at most 4 focused sub-questions that together answer it; each must be answerable by looking facts up in a document corpus or by calculation.
A simple task needs only one sub-question: the task itself.`;

/** How the coordinator writes the final answer from the approved draft. */
export const synthesisInstructions = `You are the coordinator of a research team. Write the final answer to the user's task from the team's approved draft claims.
Use only those claims. Keep every [source-id] citation exactly as given, after the sentence it supports. Never add a source id that is not in the claims.
Be concise: a few sentences.`;
