package io.dualwrite.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of a database server that can be cut like a real network partition: while cut,
 * bytes sent through open connections vanish and new connections are accepted but never answered, so
 * drivers hang until their own timeouts, as they do when a server's host drops off the network. When
 * restored, every connection that lived through the cut is closed (the server dropped those sessions
 * long ago) and new ones go through again.
 */
public final class OutageProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final String upstreamHost;
    private final int upstreamPort;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;
    private volatile boolean closed;

    private OutageProxy(String upstreamHost, int upstreamPort) throws IOException {
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "outage-proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Starts a proxy in front of the server a JDBC URL names.
     *
     * @param jdbcUrl a URL of the form {@code jdbc:<driver>://host:port/...}
     * @return the proxy, listening on a free local port
     * @throws IOException if it cannot listen
     */
    public static OutageProxy inFrontOf(String jdbcUrl) throws IOException {
        URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
        return new OutageProxy(uri.getHost(), uri.getPort());
    }

    /**
     * @param jdbcUrl the server's URL, as given to {@link #inFrontOf(String)}
     * @return the same URL going through this proxy
     */
    public String route(String jdbcUrl) {
        URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
        return jdbcUrl.replaceFirst("//" + java.util.regex.Pattern.quote(uri.getRawAuthority()),
                "//127.0.0.1:" + listener.getLocalPort());
    }

    /** Cuts the network: from now on nothing gets through, in either direction, and nothing is refused. */
    public void cut() {
        cut = true;
    }

    /** Heals the network: connections that lived through the cut are reset, new ones go through. */
    public void restore() {
        for (Link link : links) {
            if (link.sawCut) {
                link.close();
            }
        }
        cut = false;
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        links.forEach(Link::close);
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Link link = new Link(client);
                links.add(link);
                Thread opener = new Thread(link::open, "outage-proxy-link");
                opener.setDaemon(true);
                opener.start();
            } catch (IOException e) {
                if (!closed) {
                    continue;
                }
                return;
            }
        }
    }

    /** One client connection and its connection to the server. */
    private final class Link {
        final Socket client;
        volatile Socket server;
        volatile boolean sawCut;

        Link(Socket client) {
            this.client = client;
        }

        void open() {
            try {
                while (cut && !client.isClosed()) {
                    // Accepted but unanswered: the client's connect succeeds, its handshake hangs.
                    sawCut = true;
                    Thread.sleep(20);
                }
                if (client.isClosed()) {
                    return;
                }
                server = new Socket(upstreamHost, upstreamPort);
                pump(client, server);
                pump(server, client);
            } catch (IOException | InterruptedException e) {
                close();
            }
        }

        private void pump(Socket from, Socket to) throws IOException {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[16 * 1024];
                try {
                    int read;
                    while ((read = in.read(buffer)) >= 0) {
                        if (cut) {
                            sawCut = true;
                            continue;
                        }
                        out.write(buffer, 0, read);
                        out.flush();
                    }
                } catch (IOException e) {
                    // the link is going away
                }
                close();
            }, "outage-proxy-pump");
            thread.setDaemon(true);
            thread.start();
        }

        void close() {
            links.remove(this);
            closeQuietly(client);
            Socket upstream = server;
            if (upstream != null) {
                closeQuietly(upstream);
            }
        }

        private void closeQuietly(Socket socket) {
            try {
                socket.setSoLinger(true, 0);
                socket.close();
            } catch (IOException e) {
                // already gone
            }
        }
    }
}
