// A licence's name is its SKU part number (e.g. SPE_E3), from the tenant's
// subscriptions that each sync reads; when the sync could not read them
// (no Organization.Read.All) or the SKU is not among them, its id.
export function licenseName(l: { skuId: string; skuPartNumber?: string | null }): string {
  return l.skuPartNumber || l.skuId;
}
