import { render } from 'preact';
import './styles.css';
import { App } from './app';
import { renderOncePerFrame } from './lib/frame';
import { interceptLinks } from './lib/route';
import './lib/theme';

renderOncePerFrame();
const root = document.getElementById('app')!;
interceptLinks(root);
render(<App />, root);
