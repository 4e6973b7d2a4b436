// A pgJDBC client as DBeaver and DataGrip use it: DatabaseMetaData calls,
// then a query with a parameter. Run by the SQL endpoint's tests with the
// driver Debian packages (libpostgresql-jdbc-java):
//
//   java -cp /usr/share/java/postgresql.jar MetaData.java URL USER PASSWORD
//
// Prints each result as "call|column=value|…" lines, and "ERROR call: …"
// for a call that failed; exits 1 if any did.
import java.sql.*;
import java.util.*;

public class MetaData {
    static boolean failed = false;

    interface Call { ResultSet run() throws SQLException; }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", args[1]);
        p.setProperty("password", args[2]);
        try (Connection c = DriverManager.getConnection(args[0], p)) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product|" + md.getDatabaseProductName() + "|" + md.getDatabaseProductVersion());
            dump("getCatalogs", () -> md.getCatalogs());
            dump("getSchemas", () -> md.getSchemas());
            dump("getTables", () -> md.getTables(null, null, "%", new String[] {"TABLE", "VIEW"}));
            dump("getColumns", () -> md.getColumns(null, null, "%", "%"));
            dump("getPrimaryKeys", () -> md.getPrimaryKeys(null, "mart", "customer_360"));
            dump("getImportedKeys", () -> md.getImportedKeys(null, "mart", "customer_360"));
            dump("getIndexInfo", () -> md.getIndexInfo(null, "mart", "customer_360", false, true));
            dump("getTypeInfo", () -> md.getTypeInfo());
            dump("getFunctions", () -> md.getFunctions(null, "mart", "%"));
            dump("query", () -> {
                PreparedStatement ps = c.prepareStatement("SELECT count(*) AS n FROM mart.customer_360 WHERE aum > ?");
                ps.setBigDecimal(1, new java.math.BigDecimal("1005"));
                return ps.executeQuery();
            });
        }
        System.exit(failed ? 1 : 0);
    }

    static void dump(String name, Call call) {
        try (ResultSet rs = call.run()) {
            ResultSetMetaData m = rs.getMetaData();
            while (rs.next()) {
                StringBuilder b = new StringBuilder(name);
                for (int i = 1; i <= m.getColumnCount(); i++) {
                    b.append('|').append(m.getColumnLabel(i).toLowerCase()).append('=').append(rs.getString(i));
                }
                System.out.println(b);
            }
            System.out.println("done|" + name);
        } catch (SQLException e) {
            failed = true;
            System.out.println("ERROR " + name + ": " + e.getMessage().replace('\n', ' '));
        }
    }
}
