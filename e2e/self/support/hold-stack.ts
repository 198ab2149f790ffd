/**
 * Test support: brings a stack up in STACK_NAME as a "test" run owned by this process,
 * prints READY, then waits to be killed, like a test run that dies mid-way.
 */
import { config } from '../../../helpers/config';
import { EmbeddedStack } from '../../../helpers/stack/embedded-stack';

const stack = await EmbeddedStack.up(config(), { pid: process.pid, kind: 'test' });
process.stdout.write(`READY ${stack.baseUrl}\n`);
// bounded: a forgotten holder exits on its own after two minutes
setTimeout(() => process.exit(3), 120_000);
