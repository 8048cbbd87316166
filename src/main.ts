/** `npm start`: read the configuration, open the store, serve the API. */
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // Loaded after the configuration is checked: the limits they are built with come from it.
  const { startServer } = await import('./server.js');
  const { openTrialog } = await import('./trialog.js');
  const trialog = await openTrialog(config);
  const server = await startServer(trialog, { port: config.port, host: config.host, graphql: config.graphql });
  const store = config.eventStoreUrl ? `EventStoreDB (read models in ${config.dbPath})` : `SQLite ${config.dbPath}`;
  console.log(`trialog: serving ${server.url} (GraphiQL in a browser) on ${store}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`trialog: ${signal}, shutting down`);
    await server.close();
    await trialog.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`trialog: ${error.message}`);
    process.exit(2);
  }
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    console.error(`trialog: cannot listen: ${(error as Error).message}`);
    process.exit(2);
  }
  console.error('trialog: failed to start:', error);
  process.exit(1);
});
