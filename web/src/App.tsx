/** Routes. Everything but the sign-in page needs a session; Users and Garbage collection need an admin. */
import { Center, Loader } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { setUnauthorizedHandler } from './api/client';
import { sessionKey, usePermissions, useSession } from './api/session';
import { Layout } from './components/Layout';
import { LoadError } from './components/QueryState';
import { AccessKeysPage } from './pages/AccessKeysPage';
import { AccountPage } from './pages/AccountPage';
import { GcPage } from './pages/GcPage';
import { ScanSettingsPage } from './pages/ScanSettingsPage';
import { ImageCachePage } from './pages/ImageCachePage';
import { ImagePage } from './pages/image/ImagePage';
import { NotFoundPage } from './pages/NotFoundPage';
import { RegistriesPage } from './pages/RegistriesPage';
import { RegistryPage } from './pages/registry/RegistryPage';
import { SignInPage } from './pages/SignInPage';
import { UsersPage } from './pages/UsersPage';

function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (session.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (session.isError) {
    return (
      <Center h="100vh" p="md">
        <LoadError error={session.error} retry={() => session.refetch()} what="your session" />
      </Center>
    );
  }
  if (!session.data) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  return <>{children}</>;
}

function AdminOnly({ children }: { children: ReactNode }) {
  return usePermissions().isAdmin ? <>{children}</> : <Navigate to="/registries" replace />;
}

export function App() {
  const qc = useQueryClient();
  useEffect(() => {
    // A 401 anywhere means the session ended (expired, signed out elsewhere): back to sign-in.
    setUnauthorizedHandler(() => qc.setQueryData(sessionKey, null));
    return () => setUnauthorizedHandler(undefined);
  }, [qc]);

  return (
    <Routes>
      <Route path="/sign-in" element={<SignInPage />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route index element={<Navigate to="/registries" replace />} />
        <Route path="/registries" element={<RegistriesPage />} />
        <Route path="/registries/:registry" element={<RegistryPage />} />
        <Route path="/registries/:registry/images/*" element={<ImagePage />} />
        <Route path="/registries/:registry/:tab" element={<RegistryPage />} />
        <Route path="/image-cache" element={<ImageCachePage />} />
        <Route path="/access-keys" element={<AccessKeysPage />} />
        <Route path="/account" element={<AccountPage />} />
        <Route
          path="/users"
          element={
            <AdminOnly>
              <UsersPage />
            </AdminOnly>
          }
        />
        <Route
          path="/scan-settings"
          element={
            <AdminOnly>
              <ScanSettingsPage />
            </AdminOnly>
          }
        />
        <Route
          path="/gc"
          element={
            <AdminOnly>
              <GcPage />
            </AdminOnly>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
