/**
 * Pairs the i-th element of `left` with the i-th of `right`; throws when their lengths
 * differ (a batch's deliveries and what was made of them must match one to one).
 */
export function pairUp<A, B>(left: readonly A[], right: readonly B[]): [A, B][] {
  if (left.length !== right.length) {
    throw new Error(`cannot pair ${left.length} with ${right.length}`);
  }
  return left.map((item, index) => [item, right[index] as B]);
}
