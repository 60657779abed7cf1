/** The frame of every signed-in page: a header with the user menu, a navigation bar (a drawer on phones), the page. */
import { AppShell, Avatar, Badge, Burger, Group, Menu, NavLink, ScrollArea, Text, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconApi, IconBox, IconBug, IconChevronDown, IconCloudDownload, IconKey, IconLogout, IconRecycle, IconUserCircle, IconUsers } from '@tabler/icons-react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { usePermissions, useSession, useSignOut } from '../api/session';
import { ROLE_COLOR } from '../lib/roles';
import { Logo } from './Logo';

const NAV = [
  { to: '/registries', label: 'Registries', icon: IconBox, admin: false },
  { to: '/image-cache', label: 'Image Cache', icon: IconCloudDownload, admin: false },
  { to: '/access-keys', label: 'API security', icon: IconKey, admin: false },
  { to: '/users', label: 'Users', icon: IconUsers, admin: true },
  { to: '/scan-settings', label: 'Scan Settings', icon: IconBug, admin: true },
  { to: '/gc', label: 'Garbage collection', icon: IconRecycle, admin: true },
  { to: '/account', label: 'Account', icon: IconUserCircle, admin: false },
];

export function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { pathname } = useLocation();
  const session = useSession().data;
  const { isAdmin } = usePermissions();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const user = session?.user;

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 232, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding={{ base: 'md', sm: 'xl' }}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Link to="/registries" aria-label="ncr home" style={{ textDecoration: 'none', color: 'inherit' }}>
              <Logo />
            </Link>
          </Group>
          {user && (
            <Menu position="bottom-end" width={220} withinPortal>
              <Menu.Target>
                <UnstyledButton aria-label={`Account menu for ${user.username}`} style={{ borderRadius: 8, padding: '4px 6px' }}>
                  <Group gap={8} wrap="nowrap">
                    <Avatar size={30} radius="xl" color="indigo" name={user.username} />
                    <Text size="sm" fw={500} visibleFrom="xs">
                      {user.username}
                    </Text>
                    <Badge size="xs" variant="light" color={ROLE_COLOR[user.role]} visibleFrom="xs">
                      {user.role}
                    </Badge>
                    <IconChevronDown size={14} />
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>Signed in as {user.username}</Menu.Label>
                <Menu.Item leftSection={<IconUserCircle size={16} />} component={Link} to="/account">
                  Change password
                </Menu.Item>
                <Menu.Item leftSection={<IconKey size={16} />} component={Link} to="/access-keys">
                  Access keys
                </Menu.Item>
                <Menu.Divider />
                <Menu.Item color="red" leftSection={<IconLogout size={16} />} onClick={() => signOut.mutate(undefined, { onSuccess: () => navigate('/sign-in') })}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          )}
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="sm" aria-label="Main navigation">
        <AppShell.Section grow component={ScrollArea}>
          {NAV.filter((n) => !n.admin || isAdmin).map((n) => (
            <NavLink
              key={n.to}
              component={Link}
              to={n.to}
              label={n.label}
              leftSection={<n.icon size={18} stroke={1.6} />}
              active={pathname === n.to || pathname.startsWith(`${n.to}/`)}
              onClick={close}
              variant="light"
              style={{ borderRadius: 8 }}
              mb={2}
            />
          ))}
        </AppShell.Section>
        <AppShell.Section>
          <NavLink href="/api/v1/docs" target="_blank" rel="noreferrer" label="API reference" leftSection={<IconApi size={18} stroke={1.6} />} style={{ borderRadius: 8 }} c="dimmed" />
        </AppShell.Section>
      </AppShell.Navbar>

      <AppShell.Main bg="gray.0" id="main" tabIndex={-1}>
        <div style={{ maxWidth: 1280, margin: '0 auto' }}>
          <Outlet />
        </div>
      </AppShell.Main>
    </AppShell>
  );
}
