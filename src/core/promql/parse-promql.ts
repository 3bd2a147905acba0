import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode, Tree } from '@lezer/common';

/** A syntax error found in a PromQL expression, with its offset. */
export interface PromqlSyntaxError {
  offset: number;
  message: string;
}

/** Parses a PromQL expression; returns the tree and every syntax error lezer reports. */
export function parsePromql(text: string): { tree: Tree; errors: PromqlSyntaxError[] } {
  const tree = parser.parse(text);
  const errors: PromqlSyntaxError[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        const near = text.slice(node.from, node.from + 12);
        errors.push({
          offset: node.from,
          message: near ? `syntax error at offset ${node.from} near "${near}"` : `unexpected end at offset ${node.from}`,
        });
      }
    },
  });
  if (text.trim() === '') errors.push({ offset: 0, message: 'empty expression' });
  // lezer can mark one spot twice (an error node and its recovery); report each place once.
  const unique = errors.filter((error, index) => errors.findIndex((other) => other.message === error.message) === index);
  return { tree, errors: unique };
}

/** The direct children of a syntax node. */
export function childNodes(node: SyntaxNode): SyntaxNode[] {
  const children: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) children.push(child);
  return children;
}
