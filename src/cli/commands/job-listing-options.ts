/**
 * What `trialog jobs` accepts for paging and sorting: shared by the command's
 * definition (its help) and its implementation, which is loaded only when it runs.
 */
export const DEFAULT_FIRST = 50;
export const PAGE_SIZE = 1000;
export const JOB_SORT_FIELDS = ['created', 'priority', 'objective'] as const;
