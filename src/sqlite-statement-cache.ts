/**
 * Prepared statements kept by their SQL, for queries whose SQL is built per
 * call (a filter's clauses, a list's length): preparing costs more than most
 * of these queries take to run. The SQL differs only by the shape of the
 * filter, never by its values (those are bound), so a handful of entries
 * serve every call; the oldest goes past `max`, so no caller grows it without
 * bound.
 */
import type { Database, Statement } from 'better-sqlite3';

export type PreparedBySql = (sql: string) => Statement<unknown[]>;

export function statementCache(db: Database, max = 64): PreparedBySql {
  const statements = new Map<string, Statement<unknown[]>>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      if (statements.size >= max) statements.delete(statements.keys().next().value!);
      statements.set(sql, statement);
    }
    return statement;
  };
}
