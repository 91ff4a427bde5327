import '@comfyorg/litegraph/style.css';
import './styles/app.css';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import AnswerPage from './components/waiting/AnswerPage.vue';

// A signed answer link (human in the loop) opens its question alone, with no sign-in: the link is the permission.
const answer = /^#\/answer\/(.+)$/.exec(location.hash);
if (answer) createApp(AnswerPage, { token: decodeURIComponent(answer[1]!) }).mount('#app');
else createApp(App).use(createPinia()).mount('#app');
