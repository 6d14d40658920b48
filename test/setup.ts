// Tests never touch the network: no LangSmith tracing, and no provider unless a test starts its own.
process.env.LANGSMITH_TRACING = "false";
process.env.LANGCHAIN_TRACING_V2 = "false";
process.env.LANGCHAIN_CALLBACKS_BACKGROUND = "false";
delete process.env.OPENAI_API_KEY;
delete process.env.OPENAI_BASE_URL;
delete process.env.CONCLAVE_MODEL;
delete process.env.CONCLAVE_PROVIDER;
