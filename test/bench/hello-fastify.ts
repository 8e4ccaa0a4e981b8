/** A bare Fastify hello-world, the yardstick for the gateway's overhead (bench:slice). */
import Fastify from 'fastify';

const app = Fastify();
app.get('/', async () => ({ hello: 'world' }));
app.listen({ host: '127.0.0.1', port: 0 }).then((address) => process.stdout.write(`PORT ${new URL(address).port}\n`));
