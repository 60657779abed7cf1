/** The one pagination shape every /api/v1 list uses: page (1-based) and perPage (1..100). */
export interface PageRequest {
  page: number;
  perPage: number;
}
export interface Page<T> {
  items: T[];
  page: number;
  perPage: number;
  total: number;
}
export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;
/** Past this the offset ((page - 1) × perPage) would overflow the databases' 64-bit OFFSET; found by fuzzing. */
export const MAX_PAGE = 1_000_000_000;
export function offsetOf(p: PageRequest): number {
  return (p.page - 1) * p.perPage;
}
