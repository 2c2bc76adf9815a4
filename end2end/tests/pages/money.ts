// Matching amounts as the portal shows them ("$1,234.50", "-$0.03").

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A pattern that finds the amount `amount` ("1,397.00", "-0.03", "0.27")
 * inside a cell's text, e.g. "$1,397.00" or "Ajuste por redondeo −$0.03".
 *
 * A negative amount accepts "-$0.03", "−$0.03" and "$-0.03"; a positive one
 * accepts "$0.27" and "+$0.27" but never a minus sign in front. The amount
 * must be whole: "$1,397.00" does not match inside "$11,397.00".
 */
export function money(amount: string): RegExp {
  const negative = amount.startsWith('-');
  const digits = escapeRegExp(negative ? amount.slice(1) : amount);
  const minus = '[-−–]';
  if (negative) {
    return new RegExp(`(?:${minus}\\s?\\$\\s?${digits}|\\$\\s?${minus}\\s?${digits})(?![\\d])`);
  }
  return new RegExp(`(?<![-−–\\d,.])\\+?\\s?\\$\\s?${digits}(?![\\d])`);
}
