import { test } from 'node:test';
import assert from 'node:assert/strict';
import { litellmMessage } from './api.js';

// Bodies as the real LiteLLM 1.77.3 proxy answered them (test/integration/api-mode.test.ts).
const cases: [string, string, string][] = [
  [
    'FastAPI 422 body validation: loc and msg of each item',
    '{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, url is required for HTTP/SSE transport",' +
      '"input":{},"ctx":{"error":{}}}]}',
    'body: Value error, url is required for HTTP/SSE transport',
  ],
  [
    'its HTTPException detail.error',
    '{"detail":{"error":"MCP Server with id a already exists. Cannot create another."}}',
    'MCP Server with id a already exists. Cannot create another.',
  ],
  ['a plain detail string', '{"detail":"Not Found"}', 'Not Found'],
  [
    'a ProxyException error.message',
    '{"error":{"message":"Authentication Error, Invalid proxy server token passed.","type":"auth_error","param":"None","code":"401"}}',
    'Authentication Error, Invalid proxy server token passed.',
  ],
  ['not JSON: the raw start', 'Internal Server Error', 'Internal Server Error'],
  ['JSON of another shape: the raw text', '{"x":1}', '{"x":1}'],
];
for (const [name, body, want] of cases) {
  test(`litellmMessage: ${name}`, () => assert.equal(litellmMessage(body), want));
}
