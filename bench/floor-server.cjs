'use strict';
// The floor: a bare Fastify 5 server that only parses the same JSON body and returns a small JSON
// reply. What the CDS service costs beyond this is what our own code costs.
const Fastify = require('fastify');

const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
app.post('/cds-services/:id', async (request) => ({ cards: [], received: typeof request.body === 'object' }));
app.get('/healthz', async () => ({ status: 'ok' }));
app.listen({ port: Number(process.env.PORT || 0), host: '127.0.0.1' }).then((address) => {
  process.stdout.write(`${JSON.stringify({ listening: address })}\n`);
});
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
