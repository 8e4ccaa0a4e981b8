/** The contacts section's pages by path (null: not one of them). */
import type { ReactElement } from 'react';
import { matchPath } from '../../paths';
import { BasesPage } from './BasesPage';
import { ClientCardPage } from './ClientCardPage';
import { CompaniesPage, CompanyPage } from './CompaniesPage';
import { ContactPage } from './ContactPage';
import { ContactsPage } from './ContactsPage';
import { DuplicatesPage } from './DuplicatesPage';
import { ImportPage, ImportsPage } from './ImportPage';

export function contactsPage(path: string): ReactElement | null {
  if (path === '/contacts') return <ContactsPage />;
  if (path === '/companies') return <CompaniesPage />;
  if (path === '/duplicates') return <DuplicatesPage />;
  if (path === '/bases') return <BasesPage />;
  if (path === '/imports') return <ImportsPage />;
  let m = matchPath('/contacts/:id', path);
  if (m) return <ContactPage key={m.id} id={m.id} />;
  m = matchPath('/companies/:id', path);
  if (m) return <CompanyPage key={m.id} id={m.id} />;
  m = matchPath('/client-cards/:id', path);
  if (m) return <ClientCardPage key={m.id} id={m.id} />;
  m = matchPath('/imports/:id', path);
  if (m) return <ImportPage key={m.id} id={m.id} />;
  return null;
}
