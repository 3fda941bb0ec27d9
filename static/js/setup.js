// The first run: the page at the setup address the server writes in its
// log when it starts with no account. The token is in the address's
// fragment, which browsers never send (nor put in a Referer): the page
// reads it, takes it out of the address bar and history, and sends it only
// in the body of the one request that creates the first administrator.

import { h, show, faults } from './ui.js';

const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
if (location.hash) history.replaceState(null, '', location.pathname);

const signIn = () => h('p', {}, h('a', { class: 'button', id: 'to-sign-in', href: '/#/login' }, 'Go to sign in'));

async function request(method, body) {
  const headers = { Accept: 'application/json' };
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch('/api/v1/setup', { method, headers, body: body ? JSON.stringify(body) : undefined });
  let payload = null;
  try { payload = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new Error(payload && payload.error ? payload.error : `The server answered ${res.status}.`);
    err.status = res.status;
    err.fields = (payload && payload.fields) || [];
    throw err;
  }
  return payload;
}

function closed() {
  show('Set up', h('h1', {}, 'Setup is closed'),
    h('p', {}, 'This server has an administrator already. Sign in with your account; an administrator adds the others.'), signIn());
}

function done(user) {
  show('Set up', h('h1', {}, 'The administrator is ready'),
    h('p', { role: 'status' }, `The administrator ${user.email} has been created. The setup address no longer works.`),
    h('p', {}, 'Sign in with that email and password to add sites and the other accounts.'), signIn());
}

function form() {
  const email = h('input', { id: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12, maxlength: 256, 'aria-describedby': 'password-hint' });
  const err = h('div');
  // A complaint about the two passwords goes once either changes.
  const retyped = () => { if (err.querySelector('.mismatch')) err.replaceChildren(); };
  password.addEventListener('input', retyped);
  const again = h('input', { id: 'password-again', type: 'password', autocomplete: 'new-password', required: true, oninput: retyped });
  const button = h('button', { type: 'submit' }, 'Create the administrator');
  show('Set up',
    h('h1', {}, 'Create the first administrator'),
    h('p', {}, 'This server has no accounts yet. The administrator you create here signs in to add sites and the other accounts. This page works once.'),
    h('form', {
      class: 'card', onsubmit: async (e) => {
        e.preventDefault();
        err.replaceChildren();
        if (password.value !== again.value) {
          err.replaceChildren(h('p', { class: 'error mismatch', role: 'alert' }, 'The two passwords are not the same.'));
          again.focus();
          return;
        }
        button.disabled = true;
        try {
          done(await request('POST', { token, email: email.value.trim(), password: password.value }));
        } catch (x) {
          button.disabled = false;
          if (x.status === 409) return closed();
          err.replaceChildren(faults(x));
          err.firstChild.focus();
        }
      },
    },
    h('label', { for: 'email' }, 'Email'), email,
    h('label', { for: 'password' }, 'Password'), password,
    h('p', { class: 'hint', id: 'password-hint' }, '12 characters or more, hard to guess: a few unrelated words will do. Not built from your email.'),
    h('label', { for: 'password-again' }, 'The password again'), again,
    err, h('div', { class: 'actions' }, button)));
}

async function start() {
  let status;
  try {
    status = await request('GET');
  } catch (x) {
    return show('Set up', h('h1', {}, 'Something went wrong'), faults(x));
  }
  if (!status.open) return closed();
  if (!token) {
    return show('Set up', h('h1', {}, 'Open the setup address'),
      h('p', {}, "This page needs the setup address the server wrote in its log when it started (it ends with #token=…). Copy that whole address into the browser's address bar."));
  }
  return form();
}

start();
