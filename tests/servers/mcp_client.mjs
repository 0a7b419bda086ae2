// mcp_client.mjs: the official MCP TypeScript SDK as a client of `authsome mcp`, for tests.
//
//   node mcp_client.mjs AUTHSOME_BINARY < CALLS.json
//
// CALLS.json is [{"tool": NAME, "arguments": {...}}, ...]. The client starts `AUTHSOME_BINARY
// mcp` over stdio (with this process's environment), lists the tools, makes the calls in order,
// and prints {"server": {...}, "tools": [names], "results": [CallToolResult, ...]}.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [bin] = process.argv.slice(2);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const calls = JSON.parse(input || '[]');

const transport = new StdioClientTransport({
  command: bin,
  args: ['mcp'],
  env: { ...process.env },
  stderr: 'inherit',
});
const client = new Client({ name: 'authsome-test-client', version: '1.2.3' });
await client.connect(transport);
const tools = await client.listTools();
const results = [];
for (const call of calls) {
  results.push(await client.callTool({ name: call.tool, arguments: call.arguments ?? {} }));
}
console.log(JSON.stringify({
  server: client.getServerVersion(),
  tools: tools.tools.map((t) => t.name).sort(),
  results,
}));
await client.close();
