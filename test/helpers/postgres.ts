// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export {
  caughtUp,
  createPostgresSandbox,
  postgresBinDir,
  type PostgresSandbox,
  type PostgresServer,
} from '../../tools/harness/postgres.js';
