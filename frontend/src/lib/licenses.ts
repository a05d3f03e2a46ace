// Names of common Microsoft 365 licence SKUs, for when the API has only the
// SKU id (the directory lists ids; part numbers need another Graph call).
const SKUS: Record<string, string> = {
  '05e9a617-0261-4cee-bb44-138d3ef5d965': 'Microsoft 365 E3',
  '06ebc4ee-1bb5-47dd-8120-11324bc54e06': 'Microsoft 365 E5',
  '6fd2c87f-b296-42f0-b197-1e91e994b900': 'Office 365 E3',
  'c7df2760-2c81-4ef7-b578-5b5392b571df': 'Office 365 E5',
  '18181a46-0d4e-45cd-891e-60aabd171b4e': 'Office 365 E1',
  'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46': 'Microsoft 365 Business Premium',
  'f245ecc8-75af-4f8e-b61f-27d8114de5f3': 'Microsoft 365 Business Standard',
  '3b555118-da6a-4418-894f-7df1e2096870': 'Microsoft 365 Business Basic',
};

export function licenseName(l: { skuId: string; skuPartNumber?: string | null }): string {
  return SKUS[l.skuId.toLowerCase()] ?? l.skuPartNumber ?? `SKU ${l.skuId.slice(0, 8)}…`;
}
