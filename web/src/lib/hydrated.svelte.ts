// Whether this page's script is running. Buttons that only work with JavaScript (Freighter
// signing) are rendered disabled until then: a click before hydration would otherwise do nothing,
// and a JS-only form would submit natively.
import { onMount } from 'svelte';

export function hydrated(): { readonly value: boolean } {
  const state = $state({ value: false });
  onMount(() => {
    state.value = true;
  });
  return state;
}
