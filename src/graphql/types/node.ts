/** The `Node` interface and `node(id)`: ids carry their kind as a prefix (`job_…`). */
import { builder } from '../builder.js';

export const Node = builder.interfaceRef<{ id: string }>('Node').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
});

builder.queryField('node', (t) =>
  t.field({
    type: Node,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { trialog }) => {
      if (id.startsWith('job_')) return trialog.jobQueries.job(id) ?? null;
      if (id.startsWith('exp_')) return trialog.experimentQueries.experiment(id) ?? null;
      return null;
    },
  }),
);
