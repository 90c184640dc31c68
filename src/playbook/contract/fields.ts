// The field builders every payload schema of the contract is made of.
import { z } from 'zod';
import { cleanText } from '../text';

/**
 * Every string of a payload, however it came (the ingress, the Web UI, `temporal`, `tctl`, a procedure):
 * cleaned before it is checked or kept (src/playbook/text.ts), so a NUL or an invisible character never
 * reaches the timeline, the ledger or a page.
 */
export const str = () => z.string().overwrite(cleanText);
export const text = (max = 2000) => str().trim().min(1).max(max);
export const actor = text(200);
export const isoTime = z.iso.datetime({ offset: true });
