/** How sizes, times and JSON read on every page. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export const formatTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");

export const formatJson = (value: unknown) => JSON.stringify(value, null, 2);

/** What a registry's visibility means, for a tooltip beside its badge. */
export const visibilityHint: Record<"restricted" | "organization", string> = {
  restricted: "only members of this registry (and server admins) can read it",
  organization: "every signed-in user can read it",
};
