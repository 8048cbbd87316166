/**
 * Which fields a query selects below the field being resolved, so that a
 * resolver reads only what is asked for (an audit page without `data` never
 * reads event data).
 *
 * Written here on graphql-js's public API rather than taken from a library
 * (graphql-parse-resolve-info would do): the question is one yes/no per field
 * name along a fixed path, and the walk is short. It follows what graphql-js
 * itself executes: aliases resolve to field names, named and inline fragments
 * are entered, and `@skip`/`@include` are honoured with the request's
 * variables. Type conditions are not checked: a fragment's fields count
 * wherever it is spread, which can only make a resolver read more than
 * needed, never less.
 */
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  type FieldNode,
  type FragmentSpreadNode,
  type GraphQLResolveInfo,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * The names of the fields selected at `path` below the field being resolved:
 * `selectedFieldNames(info, ['edges', 'node'])` on a connection field answers
 * which fields of its nodes the query asks for.
 */
export function selectedFieldNames(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  let level: FieldNode[] = [...info.fieldNodes];
  for (const name of path) {
    const next: FieldNode[] = [];
    for (const node of level) {
      forEachField(info, node.selectionSet, (field) => {
        if (field.name.value === name) next.push(field);
      });
    }
    level = next;
  }
  const names = new Set<string>();
  for (const node of level) forEachField(info, node.selectionSet, (field) => names.add(field.name.value));
  return names;
}

function forEachField(
  info: GraphQLResolveInfo,
  selectionSet: SelectionSetNode | undefined,
  visit: (field: FieldNode) => void,
): void {
  for (const selection of selectionSet?.selections ?? []) {
    if (!isIncluded(info, selection)) continue;
    if (selection.kind === Kind.FIELD) {
      visit(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      forEachField(info, selection.selectionSet, visit);
    } else {
      // Validation rejects unknown and cyclic fragments before anything resolves.
      forEachField(info, info.fragments[selection.name.value]?.selectionSet, visit);
    }
  }
}

function isIncluded(info: GraphQLResolveInfo, node: FieldNode | FragmentSpreadNode | InlineFragmentNode): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if === true) return false;
  if (getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if === false) return false;
  return true;
}
