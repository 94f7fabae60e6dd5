package dev.backbone.server.internals;

import dev.backbone.config.BackboneConfig;
import dev.backbone.errors.FatalBackboneException;
import java.io.File;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * TLS of a node's HTTP server and of its calls to peers, from {@code backbone.http.tls.*}.
 *
 * <p>A cluster serves HTTPS on every node or on none: a node with a keystore listens only for
 * HTTPS, and calls its peers (forwarded reads, snapshot transfer) over HTTPS, trusting the
 * configured trust store (or the JVM's) and checking that each peer's certificate names the host it
 * is called at. The stores are read when the node is built, so a wrong path or password is a {@code
 * BAD_CONFIG} error at start, not a failed handshake later.
 */
final class HttpTlsSetup {
  private HttpTlsSetup() {}

  /** The HTTPS connector of the server, listening on {@code host}:{@code port}. */
  static ServerConnector connector(
      Server server, HttpConfiguration base, BackboneConfig.HttpTls tls, String host, int port) {
    SslContextFactory.Server factory = new SslContextFactory.Server();
    factory.setKeyStore(load(tls.keystorePath(), tls.keystorePassword(), "keystore"));
    factory.setKeyStorePassword(tls.keystorePassword());
    factory.setKeyManagerPassword(tls.keystorePassword());
    HttpConfiguration https = new HttpConfiguration(base);
    https.setSecureScheme("https");
    https.addCustomizer(new SecureRequestCustomizer());
    ServerConnector connector =
        new ServerConnector(
            server,
            new SslConnectionFactory(factory, HttpVersion.HTTP_1_1.asString()),
            new HttpConnectionFactory(https));
    connector.setHost(host);
    connector.setPort(port);
    return connector;
  }

  /** Checks that the keystore and trust store of the settings can be read (at node build). */
  static void check(BackboneConfig.HttpTls tls) {
    load(tls.keystorePath(), tls.keystorePassword(), "keystore");
    clientContext(tls);
  }

  /**
   * The client-side TLS of peer calls made with Jetty's client: the trust store, and the peer's
   * certificate checked against its host name.
   */
  static SslContextFactory.Client jettyClient(BackboneConfig.HttpTls tls) {
    SslContextFactory.Client factory = new SslContextFactory.Client();
    factory.setSslContext(clientContext(tls));
    factory.setEndpointIdentificationAlgorithm("HTTPS");
    return factory;
  }

  /** The JDK TLS context of peer calls: the trust store's certificates, or the JVM's defaults. */
  static SSLContext clientContext(BackboneConfig.HttpTls tls) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      Optional<KeyStore> trust =
          tls.truststorePath().map(p -> load(p, tls.truststorePassword(), "truststore"));
      TrustManagerFactory trustManagers =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trust.orElse(null));
      context.init(null, trustManagers.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw bad("the trust store " + tls.truststorePath().orElse("(the JVM's)"), e);
    }
  }

  private static KeyStore load(String path, String password, String what) {
    try {
      // The type (PKCS12 or JKS) is read from the file itself.
      return KeyStore.getInstance(new File(path), password.toCharArray());
    } catch (IOException | GeneralSecurityException e) {
      throw bad("the " + what + " " + path, e);
    }
  }

  private static FatalBackboneException bad(String what, Exception e) {
    return new FatalBackboneException(
        "BAD_CONFIG",
        "Cannot read "
            + what
            + " for HTTPS ("
            + e.getMessage()
            + "); check backbone.http.tls.* (path, password).");
  }
}
