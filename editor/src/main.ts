// First: its requests go out while the rest of the bundle is still starting (cold open of a big flow).
import './lib/prefetch-start';
import '@comfyorg/litegraph/style.css';
import './styles/app.css';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { loadValidation } from './lib/validation-lazy';

// A signed answer link (human in the loop) opens its question alone, with no sign-in: the link is the permission.
const answer = /^#\/answer\/(.+)$/.exec(location.hash);
if (answer) void import('./components/waiting/AnswerPage.vue').then(({ default: AnswerPage }) => createApp(AnswerPage, { token: decodeURIComponent(answer[1]!) }).mount('#app'));
else {
  // Fetched and parsed while the app starts and asks who is signed in (lib/validation-lazy.ts).
  void loadValidation();
  createApp(App).use(createPinia()).mount('#app');
}
